/*
 * mdwe_exec: runs a command under the system call filter systemd 252 (Debian
 * 12) installs for MemoryDenyWriteExecute=yes, so that what commentd does
 * under it can be tested without systemd as PID 1.
 *
 * The filter is the one systemd.exec(5) describes: mmap() with PROT_WRITE
 * and PROT_EXEC both set, mprotect() and pkey_mprotect() with PROT_EXEC, and
 * shmat() with SHM_EXEC fail with EPERM; a system call of another
 * architecture kills the process (SystemCallArchitectures=native).  Later
 * systemd versions use prctl(PR_SET_MDWE) where the kernel has it, which
 * refuses the same mappings.  A test tool only: it must never be installed
 * or relax the filter.
 *
 * Exit status: that of the command; 125 when the filter cannot be
 * installed, 127 when the command cannot be run, 77 (skipped) on an
 * architecture this file does not know.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define MDWE_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define MDWE_ARCH	AUDIT_ARCH_AARCH64
#endif

/* The low 32 bits of argument n: the protection flags all fit there. */
#define MDWE_ARG(n)	(offsetof(struct seccomp_data, args[n]))

#define MDWE_LOAD(off)	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define MDWE_RET(what)	BPF_STMT(BPF_RET | BPF_K, (what))
#define MDWE_DENY	MDWE_RET(SECCOMP_RET_ERRNO | EPERM)

#ifdef MDWE_ARCH
/* Installs the filter on this process and whatever it executes; 0 or -1. */
static int
mdwe_install(void)
{
	struct sock_filter f[] = {
		/* 0: another architecture's system calls kill the process. */
		MDWE_LOAD(offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MDWE_ARCH, 1, 0),
		MDWE_RET(SECCOMP_RET_KILL_PROCESS),
		MDWE_LOAD(offsetof(struct seccomp_data, nr)),
		/* 4: mmap, writable and executable at once. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 3),
		MDWE_LOAD(MDWE_ARG(2)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC,
		    8, 7),
		/* 8: mprotect and pkey_mprotect, making anything executable. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pkey_mprotect, 0, 2),
		MDWE_LOAD(MDWE_ARG(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 4, 3),
		/* 12: shmat of executable shared memory. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_shmat, 0, 2),
		MDWE_LOAD(MDWE_ARG(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SHM_EXEC, 1, 0),
		/* 15 */
		MDWE_RET(SECCOMP_RET_ALLOW),
		/* 16 */
		MDWE_DENY,
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };

	/* As systemd does for a service without CAP_SYS_ADMIN. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}
#endif

/* Installs the filter and executes argv[1..]. */
int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mdwe_exec command [argument ...]\n");
		return 125;
	}
#ifndef MDWE_ARCH
	fprintf(stderr, "mdwe_exec: no filter for this architecture\n");
	return 77;
#else
	if (mdwe_install() == -1) {
		fprintf(stderr, "mdwe_exec: seccomp: %s\n", strerror(errno));
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "mdwe_exec: %s: %s\n", argv[1], strerror(errno));
	return 127;
#endif
}

#include <stdio.h>
#ifdef WITH_SECCOMP
#include <seccomp.h>
#endif

int main(void) {
#ifdef WITH_SECCOMP
	/* Links the target arch's static libseccomp, as runc does. */
	const struct scmp_version *v = seccomp_version();
	printf("hello from static C (glibc, libseccomp %u.%u.%u)\n", v->major, v->minor, v->micro);
#else
	printf("hello from static C (musl)\n");
#endif
	return 0;
}

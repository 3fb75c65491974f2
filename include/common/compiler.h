/*
 * Compiler helpers shared by criu, compel and freestanding code.
 * No libc assumptions: safe to include from parasite/restorer code.
 */
#ifndef COMMON_COMPILER_H
#define COMMON_COMPILER_H

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)

#define __packed		__attribute__((packed))
#define __aligned(x)		__attribute__((aligned(x)))
#define __noreturn		__attribute__((noreturn))
#define __maybe_unused		__attribute__((unused))
#define __printf(a, b)		__attribute__((format(printf, a, b)))

#define barrier()		__asm__ __volatile__("" ::: "memory")

#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))

#define round_up(x, a)		(((x) + (a) - 1) / (a) * (a))
#define round_down(x, a)	((x) / (a) * (a))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), #cond)

#endif /* COMMON_COMPILER_H */

/* sampler.c - see sampler.h. */
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "sampler.h"

/* Until a sampler starts, no size is picked for itself. */
struct sampler_shared sampler_shared = {.exact_above = UINT64_MAX};

/* splitmix64: seeds each thread's generator from (seed, thread number). */
static uint64_t mix(uint64_t value)
{
	value += 0x9e3779b97f4a7c15u;
	value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9u;
	value = (value ^ (value >> 27)) * 0x94d049bb133111ebu;
	return value ^ (value >> 31);
}

/* xorshift64*: a thread's stream of random numbers. */
static uint64_t next_random(struct memscope_thread *thread)
{
	uint64_t x = thread->random;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	thread->random = x;
	return x * 0x2545f4914f6cdd1du;
}

/* Bytes to the next point: floor(X) + 1 with X exponential of mean
 * interval, so that "countdown <= bytes" happens exactly when X < bytes. */
static uint64_t draw_countdown(struct memscope_thread *thread)
{
	uint64_t interval = atomic_load_explicit(&sampler_shared.interval, memory_order_relaxed);
	thread->drawn_interval = interval;
	if (interval <= 1)
		return 0;
	/* A uniform in (0, 1]: 53 random bits, plus one so it is never 0. */
	double uniform = (double)((next_random(thread) >> 11) + 1) * 0x1.0p-53;
	double bytes = -log(uniform) * (double)interval;
	if (bytes >= (double)SAMPLER_MAX_COUNTDOWN)
		return SAMPLER_MAX_COUNTDOWN;
	return (uint64_t)bytes + 1;
}

/* Sets the thread's distance to its next point, countdown held back
 * above the threshold (guard.h). */
static void set_countdown(struct memscope_thread *thread, uint64_t bytes)
{
	uint64_t cap = sampler_shared.exact_above;
	thread->countdown = bytes < cap ? bytes : cap;
	thread->countdown_held = bytes - thread->countdown;
}

bool sampler_pick_slow(struct memscope_thread *thread, uint64_t size)
{
	uint64_t bytes = sampler_counted_bytes(size);
	uint32_t epoch = atomic_load_explicit(&sampler_shared.epoch, memory_order_acquire);
	bool seeded_now = thread->epoch != epoch;
	if (seeded_now) {
		/* The first allocation of this thread in this sampler's life: a
		 * generator of its own (the same ones, in the same order of
		 * threads, for the same seed), then a first countdown. */
		uint64_t number = atomic_fetch_add_explicit(&sampler_shared.threads, 1,
		                                            memory_order_relaxed);
		thread->random = mix(sampler_shared.seed ^ mix(number)) | 1;
		thread->epoch = epoch;
		thread->told_interval = 0;
		set_countdown(thread, draw_countdown(thread));
	}
	if (thread->pick_next == epoch) {
		/* A countdown parked before the thread was seeded means nothing:
		 * the one just drawn stands. */
		if (!seeded_now)
			set_countdown(thread, thread->countdown_parked);
		thread->pick_next = 0;
		thread->picked_interval = 1;
		return true;
	}
	/* Recorded whatever the countdown, which it leaves as it is: by the
	 * requested size, as readers weigh it. */
	if (size >= sampler_shared.exact_above)
		return true;
	uint64_t left = thread->countdown + thread->countdown_held;
	if (bytes < left) {
		set_countdown(thread, left - bytes);
		return false;
	}
	thread->picked_interval = thread->drawn_interval;
	set_countdown(thread, draw_countdown(thread));
	return true;
}

void sampler_start(uint64_t interval, uint64_t seed, uint64_t exact_above)
{
	if (seed == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		seed = mix((uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec << 30 ^ (uint64_t)getpid() << 40);
		if (seed == 0)
			seed = 1;
	}
	atomic_store_explicit(&sampler_shared.interval, interval, memory_order_relaxed);
	sampler_shared.seed = seed;
	sampler_shared.exact_above = exact_above != 0 ? exact_above : UINT64_MAX;
	atomic_store_explicit(&sampler_shared.threads, 0, memory_order_relaxed);
	/* Interval and seed are published by the epoch: a thread that sees
	 * the new epoch in the slow path (acquire) sees them too. */
	atomic_fetch_add_explicit(&sampler_shared.epoch, 1, memory_order_release);
	atomic_store_explicit(&sampler_shared.running, true, memory_order_release);
}

void sampler_pick_next(void)
{
	struct memscope_thread *thread = &memscope_thread;
	if (!sampler_running())
		return;
	uint32_t epoch = atomic_load_explicit(&sampler_shared.epoch, memory_order_acquire);
	if (thread->pick_next != epoch) {
		thread->countdown_parked = thread->countdown + thread->countdown_held;
		thread->pick_next = epoch;
	}
	/* The next allocation, of any size, takes the slow path. */
	thread->countdown = 0;
	thread->countdown_held = 0;
}

void sampler_set_interval(uint64_t interval)
{
	atomic_store_explicit(&sampler_shared.interval, interval, memory_order_relaxed);
}

void sampler_stop(void)
{
	atomic_store_explicit(&sampler_shared.running, false, memory_order_relaxed);
}

uint64_t sampler_seed(void)
{
	return sampler_shared.seed;
}

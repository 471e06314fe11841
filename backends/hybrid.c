/* hybrid.c - the hybrid backend: every block of exact_above bytes or more
 * recorded, with its stack, as the exact backend would; the smaller ones
 * sampled by bytes, as the lockfree backend does (sampling_backend.h);
 * and every event charged to its task, as the async backend does
 * (async/tasks.h).
 *
 * The sampler picks the large blocks itself without touching its
 * countdown, so the small ones are sampled exactly as they would be alone
 * and keep their weights; the capture's SAMPLING record names the
 * threshold, from which readers weigh a block 1 (docs/capture-format.md,
 * minor 3).  A resize in place is a free and an allocation, as in the
 * lockfree backend: one that crosses the threshold moves the block from
 * one population to the other.
 *
 * The threshold, unless the user sets one, is where a block's chance of
 * being picked would reach 99%: ln(100) = 4.6 intervals.  Above it the
 * sampled weight would be within 1% of 1 anyway; recording those blocks
 * outright costs few events (at most one per 4.6 intervals allocated) and
 * makes them, their sites and their leaks exact.
 *
 * With an event budget, the interval moves to keep the events recorded
 * per second under it: every PACE_PERIOD (sooner when a period's events
 * are already four times the budget's) the writer's pass calls pace(),
 * which compares the rate of the last period with the budget and scales
 * the interval by their ratio (at most x4 up, two grid steps down, never below
 * the interval the user asked for, on a grid of eighth powers of two
 * above it, so that the store keeps few distinct intervals).  A sampled
 * event's rate is inversely proportional to the interval, so one step
 * nearly settles it; what is above the threshold does not move and is
 * counted too.  A thread's countdown under way keeps its interval, and
 * each pick is weighed by the interval it was drawn at (sampler.h,
 * THREAD_SAMPLING in docs/capture-format.md): estimates stay unbiased
 * across changes.  The threshold does not move.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "event_store.h"
#include "hybrid.h"
#include "sampler.h"
#include "sampling.h"
#include "sampling_backend.h"
#include "tasks.h"

#define PACE_PERIOD_NS 100000000u     /* how often the rate is looked at */
#define PACE_TARGET 0.95              /* of the budget: room for the rate's noise */
#define PACE_GRID 8                   /* steps of the interval per doubling */
#define PACE_MAX_STEPS (PACE_GRID * 40) /* up to 2^40 times the user's interval */
#define PACE_MAX_DOWN 0.84            /* 2^(-2/8): two grid steps down at most a period */

struct hybrid_backend {
	struct sampling_backend sampling; /* first: the shared slots take it */
	uint64_t budget;              /* events per second; 0: none */
	uint32_t step;                /* the interval is base * 2^(step / PACE_GRID) */
	uint64_t period_start_ns;
	uint64_t period_start_events;
};

/* One instance per process, never freed: see exact.c. */
static struct hybrid_backend instance;
static atomic_bool instance_taken;

static uint64_t interval_at(uint64_t base, uint32_t step)
{
	double interval = (double)base * exp2((double)step / PACE_GRID);
	return interval >= 0x1p63 ? UINT64_C(1) << 63 : (uint64_t)llround(interval);
}

static void hybrid_pace(struct backend *backend, uint64_t now_ns)
{
	struct hybrid_backend *hybrid = (struct hybrid_backend *)backend;
	if (hybrid->budget == 0)
		return;
	/* The events offered, not those written: when the writer falls
	 * behind, the events it has written say the rate is lower than it
	 * is (three threads at a 1 KiB interval, on two cores under other
	 * work, then ran at twice the budget). */
	uint64_t events = event_store_offered(hybrid->sampling.store);
	/* A period that has seen the events of a whole one at four times the
	 * target ends there: a step can go no further up anyway, and the
	 * rings fill meanwhile (three threads at 1 KiB, 15 million events a
	 * second, dropped 15% of them before the interval caught up). */
	double whole_period_over = 4.0 * PACE_TARGET * (double)hybrid->budget * PACE_PERIOD_NS * 1e-9;
	if (now_ns - hybrid->period_start_ns < PACE_PERIOD_NS &&
	    (double)(events - hybrid->period_start_events) < whole_period_over)
		return;
	double seconds = (double)(now_ns - hybrid->period_start_ns) * 1e-9;
	if (seconds <= 0)
		return;
	double rate = (double)(events - hybrid->period_start_events) / seconds;
	hybrid->period_start_ns = now_ns;
	hybrid->period_start_events = events;
	/* The interval that would have made the rate the target's, within
	 * a step's bounds, rounded to the grid.  Up fast, down slowly: a rate
	 * that dipped because the program's threads lost the processor
	 * comes back at full speed, and an interval halved meanwhile sent
	 * three threads sharing two cores with other work to 1.5 times the
	 * budget. */
	double ratio = rate / (PACE_TARGET * (double)hybrid->budget);
	if (ratio > 4.0)
		ratio = 4.0;
	if (ratio < PACE_MAX_DOWN)
		ratio = PACE_MAX_DOWN;
	double steps = (double)hybrid->step + PACE_GRID * log2(ratio);
	uint32_t step = steps <= 0 ? 0 : steps >= PACE_MAX_STEPS ? PACE_MAX_STEPS
	                                                         : (uint32_t)lround(steps);
	if (step == hybrid->step)
		return;
	hybrid->step = step;
	sampler_set_interval(interval_at(hybrid->sampling.interval, step));
}

uint64_t hybrid_default_exact_above(uint64_t interval)
{
	if (interval <= 1)
		return 1;
	return (uint64_t)ceil((double)interval * log(100.0));
}

static int hybrid_open(struct backend *backend, const memscope_config *config,
                       struct event_store *store)
{
	uint64_t interval = config->sample_interval != 0 ? config->sample_interval
	                                                 : SAMPLING_DEFAULT_INTERVAL;
	uint64_t exact_above = config->exact_above != 0
	                           ? config->exact_above
	                           : hybrid_default_exact_above(interval);
	int error = event_store_record_tasks(store);
	if (error < 0)
		return error;
	error = sampling_backend_open((struct sampling_backend *)backend, config, store,
	                              exact_above);
	if (error < 0)
		return error;
	struct hybrid_backend *hybrid = (struct hybrid_backend *)backend;
	hybrid->budget = config->event_budget;
	hybrid->step = 0;
	hybrid->period_start_ns = 0;
	hybrid->period_start_events = 0;
	tasks_attach(backend);
	return 0;
}

static void hybrid_close(struct backend *backend)
{
	tasks_attach(NULL);
	sampling_backend_close((struct sampling_backend *)backend);
	atomic_store(&instance_taken, false);
}

static void hybrid_task_event(struct backend *backend, const struct store_task *task)
{
	event_store_record_task(((struct sampling_backend *)backend)->store, task);
}

static const struct backend_ops hybrid_ops = {
	.version = BACKEND_OPS_VERSION,
	.name = "hybrid",
	.open = hybrid_open,
	.close = hybrid_close,
	.on_alloc = sampling_backend_on_alloc,
	.on_free = sampling_backend_on_free,
	.on_expand = sampling_backend_on_expand,
	.stats = sampling_backend_stats,
	.on_early = sampling_backend_on_early,
	.task_event = hybrid_task_event,
	.pace = hybrid_pace,
};

int hybrid_backend_create(struct backend **out)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&instance_taken, &expected, true))
		return -EBUSY;
	instance = (struct hybrid_backend){.sampling = {.base = {.ops = &hybrid_ops}}};
	*out = &instance.sampling.base;
	return 0;
}

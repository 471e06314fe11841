/* scheduler.c - a cooperative scheduler on ucontext, and four jobs with
 * known allocations, for memscope's async backend to take apart without a
 * single annotation: every coroutine made with makecontext is a task named
 * after its start function.
 *
 *   producer   sends 32 messages of 64 bytes over a channel of 8 slots;
 *   consumer   receives them and frees them (the producer's blocks, freed
 *              by another task);
 *   cache      puts 10 entries of 128 bytes into 4 slots, freeing the one
 *              it replaces, and returns with 4 entries still cached;
 *   big_buffer fills a 1 MiB buffer, yields, then frees it.
 * The scheduler itself (main's code outside the coroutines) allocates each
 * coroutine and its 64 KiB stack, and the channel, and frees them all.
 * Output is one line from main, after the work, through write(2): stdio's
 * buffer would be an allocation of whichever task printed first.
 *
 * Run it: memscope --backend async ./scheduler; memscope report FILE.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define STACK_BYTES 65536
#define MESSAGES 32
#define CHANNEL_SLOTS 8
#define CACHE_SLOTS 4
#define CACHE_INSERTS 10
#define BIG_BUFFER_BYTES 1048576

/* ---- The scheduler ---- */

struct coroutine {
	ucontext_t context;
	void *stack;
	struct coroutine *next; /* in the run queue */
	bool yielded;           /* came back through yield(), not by returning */
};

/* A coroutine's start function.  makecontext passes only ints, so a job's
 * pointer argument arrives in two halves (argument_of joins them). */
typedef void job_function(unsigned int low, unsigned int high);

static ucontext_t scheduler_context;
static struct coroutine *running;
static struct coroutine *queue_head;
static struct coroutine *queue_tail;

static void queue_push(struct coroutine *coroutine)
{
	coroutine->next = NULL;
	if (queue_tail != NULL)
		queue_tail->next = coroutine;
	else
		queue_head = coroutine;
	queue_tail = coroutine;
}

static struct coroutine *queue_pop(void)
{
	struct coroutine *coroutine = queue_head;
	if (coroutine != NULL) {
		queue_head = coroutine->next;
		if (queue_head == NULL)
			queue_tail = NULL;
	}
	return coroutine;
}

static void *argument_of(unsigned int low, unsigned int high)
{
	return (void *)(uintptr_t)((uint64_t)high << 32 | low);
}

/* Queues job(argument) to run on a stack of its own.  Returns 0, or a
 * negative errno: -ENOMEM, or getcontext's error. */
static int spawn(job_function *job, void *argument)
{
	int error = -ENOMEM;
	struct coroutine *coroutine = calloc(1, sizeof *coroutine);
	if (coroutine == NULL)
		return error;
	coroutine->stack = malloc(STACK_BYTES);
	if (coroutine->stack == NULL)
		goto fail;
	if (getcontext(&coroutine->context) != 0) {
		error = -errno;
		goto fail;
	}
	coroutine->context.uc_stack.ss_sp = coroutine->stack;
	coroutine->context.uc_stack.ss_size = STACK_BYTES;
	/* A job that returns comes back to the run loop. */
	coroutine->context.uc_link = &scheduler_context;
	uint64_t address = (uintptr_t)argument;
	makecontext(&coroutine->context, (void (*)(void))job, 2,
	            (unsigned int)(address & 0xffffffffu), (unsigned int)(address >> 32));
	queue_push(coroutine);
	return 0;

fail:
	free(coroutine->stack);
	free(coroutine);
	return error;
}

/* Lets the other coroutines run; returns when the scheduler comes back to
 * this one. */
static void yield(void)
{
	running->yielded = true;
	swapcontext(&running->context, &scheduler_context);
}

/* Runs the queue round-robin until every job has returned, freeing each
 * coroutine as it finishes. */
static void run(void)
{
	while ((running = queue_pop()) != NULL) {
		running->yielded = false;
		swapcontext(&scheduler_context, &running->context);
		if (running->yielded) {
			queue_push(running);
		} else {
			free(running->stack);
			free(running);
		}
	}
}

/* ---- A channel: a ring of message pointers, waited on by yielding ---- */

struct message {
	uint32_t sequence;
	char text[60];
};
_Static_assert(sizeof(struct message) == 64, "README.md counts messages of 64 bytes");

struct channel {
	size_t head;  /* the slot of the oldest message */
	size_t count; /* messages waiting */
	size_t capacity;
	bool closed;
	struct message *slots[];
};

static struct channel *channel_create(size_t capacity)
{
	struct channel *channel = malloc(sizeof *channel + capacity * sizeof channel->slots[0]);
	if (channel != NULL)
		*channel = (struct channel){.capacity = capacity};
	return channel;
}

static void channel_send(struct channel *channel, struct message *message)
{
	while (channel->count == channel->capacity)
		yield();
	channel->slots[(channel->head + channel->count) % channel->capacity] = message;
	channel->count++;
}

/* The oldest message, once there is one; NULL when the channel is closed
 * and empty. */
static struct message *channel_receive(struct channel *channel)
{
	while (channel->count == 0 && !channel->closed)
		yield();
	if (channel->count == 0)
		return NULL;
	struct message *message = channel->slots[channel->head];
	channel->head = (channel->head + 1) % channel->capacity;
	channel->count--;
	return message;
}

/* ---- The jobs ---- */

static unsigned int received;
static bool out_of_order;

static void producer(unsigned int low, unsigned int high)
{
	struct channel *channel = argument_of(low, high);
	for (uint32_t sequence = 0; sequence < MESSAGES; sequence++) {
		struct message *message = malloc(sizeof *message);
		if (message == NULL)
			break;
		message->sequence = sequence;
		snprintf(message->text, sizeof message->text, "message %u", (unsigned int)sequence);
		channel_send(channel, message);
	}
	channel->closed = true;
}

static void consumer(unsigned int low, unsigned int high)
{
	struct channel *channel = argument_of(low, high);
	struct message *message;
	while ((message = channel_receive(channel)) != NULL) {
		out_of_order |= message->sequence != received;
		received++;
		free(message);
	}
}

struct cache_entry {
	uint32_t key;
	char value[124];
};
_Static_assert(sizeof(struct cache_entry) == 128, "README.md counts entries of 128 bytes");

/* Still pointed to when the program ends: memscope counts every block live
 * at exit as a leak of the task that allocated it, reachable or not. */
static struct cache_entry *cache_slots[CACHE_SLOTS];

static void cache(unsigned int low, unsigned int high)
{
	(void)low;
	(void)high;
	for (uint32_t key = 0; key < CACHE_INSERTS; key++) {
		struct cache_entry *entry = malloc(sizeof *entry);
		if (entry == NULL)
			break;
		entry->key = key;
		memset(entry->value, (int)('a' + key), sizeof entry->value);
		struct cache_entry **slot = &cache_slots[key % CACHE_SLOTS];
		free(*slot);
		*slot = entry;
		yield();
	}
}

/* Where the buffer is while its job waits: a malloc whose block no other
 * function can see may be dropped by the compiler. */
static char *volatile big;

static void big_buffer(unsigned int low, unsigned int high)
{
	(void)low;
	(void)high;
	big = malloc(BIG_BUFFER_BYTES);
	if (big == NULL)
		return;
	memset(big, 1, BIG_BUFFER_BYTES);
	yield();
	free(big);
}

int main(void)
{
	struct channel *channel = channel_create(CHANNEL_SLOTS);
	if (channel == NULL || spawn(producer, channel) != 0 || spawn(consumer, channel) != 0 ||
	    spawn(cache, NULL) != 0 || spawn(big_buffer, NULL) != 0)
		return 1;
	run();
	free(channel);

	unsigned int cached = 0;
	for (int i = 0; i < CACHE_SLOTS; i++)
		cached += cache_slots[i] != NULL;
	char line[128];
	int length = snprintf(line, sizeof line,
	                      "scheduler: 4 jobs done, %u of %d messages received%s, %u entries cached\n",
	                      received, MESSAGES, out_of_order ? " OUT OF ORDER" : " in order",
	                      cached);
	bool written = length > 0 && write(1, line, (size_t)length) == length;
	return written && received == MESSAGES && !out_of_order ? 0 : 1;
}

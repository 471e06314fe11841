/* echo_server.c - a libuv TCP echo server whose connections are tasks named
 * with memscope/task.h, and a client thread that talks to it, so that the
 * program runs on its own and ends.
 *
 * An event loop runs every connection on one thread, one callback at a
 * time: nothing in the thread says which connection a malloc is for.  So
 * each accepted connection begins a task named "conn", and every callback
 * that works for a connection (alloc, read, write, close) enters its task
 * first and leaves it before returning to the loop.
 *
 * The client (plain blocking sockets, stack buffers, no malloc) opens 3
 * connections to 127.0.0.1 and talks to them in turn, one message at a
 * time, waiting for each whole echo before sending the next:
 *   connection 1: 2 messages, then "quit";
 *   connection 2: 4 messages, then "quit";
 *   connection 3: 6 messages, then hangs up without "quit".
 * Per connection the server allocates its connection record, a session
 * record, one 4,096-byte read buffer for each message and one for the end
 * of the stream, and one write request per echo.  The session record is
 * freed only on "quit" (the close callback forgets it): connection 3 leaks
 * it, and memscope names that connection as the task that leaked.
 *
 * Run it: memscope --backend async ./echo_server; memscope report FILE.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include <memscope/task.h>

#define CONNECTIONS 3
#define READ_BUFFER_BYTES 4096

/* ---- The server ---- */

/* What the server counts for a client while it is logged in; added to
 * the server's totals and freed when the client says "quit". */
struct session {
	uint64_t messages;
	uint64_t bytes;
};

struct connection {
	uv_tcp_t handle; /* first: libuv's callbacks give back its address */
	uint64_t task;   /* the memscope task this connection is */
	struct session *session;
};

static uv_loop_t loop;
static uv_tcp_t server;
static uv_async_t client_failed; /* the client thread gives up: stop the loop */
static uint64_t next_task = 1;
static unsigned int connections_closed;
static unsigned int messages_echoed;
static unsigned int sessions_quit;
static uint64_t quit_sessions_messages; /* what the sessions that quit received */
static uint64_t quit_sessions_bytes;

/* Where the server cannot go on, for the terminal: stdout stays for the
 * one line of results. */
static void complain(const char *message)
{
	if (write(2, message, strlen(message)) < 0)
		return; /* nowhere left to say it */
}

static struct connection *connection_of(uv_handle_t *handle)
{
	return (struct connection *)handle;
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buffer)
{
	/* One fixed size, whatever libuv suggests: a message is far smaller,
	 * so each read takes one message and libuv allocates again for the
	 * next. */
	(void)suggested_size;
	struct connection *connection = connection_of(handle);
	memscope_task_enter(connection->task);
	buffer->base = malloc(READ_BUFFER_BYTES);
	buffer->len = buffer->base != NULL ? READ_BUFFER_BYTES : 0;
	memscope_task_leave(connection->task);
}

static void on_written(uv_write_t *request, int status)
{
	(void)status;
	struct connection *connection = connection_of((uv_handle_t *)request->handle);
	memscope_task_enter(connection->task);
	free(request->data);
	free(request);
	memscope_task_leave(connection->task);
}

static void on_closed(uv_handle_t *handle)
{
	struct connection *connection = connection_of(handle);
	uint64_t task = connection->task;
	memscope_task_enter(task);
	/* connection->session is not freed here: a client that hangs up
	 * without "quit" leaves its session behind. */
	free(connection);
	memscope_task_leave(task);
	memscope_task_end(task);
	if (++connections_closed == CONNECTIONS) {
		uv_close((uv_handle_t *)&server, NULL);
		uv_close((uv_handle_t *)&client_failed, NULL);
	}
}

/* Sends data back; the write request owns the read buffer until the
 * write's callback frees both. */
static void echo(struct connection *connection, char *data, size_t length)
{
	uv_write_t *request = malloc(sizeof *request);
	if (request == NULL) {
		free(data);
		return;
	}
	request->data = data;
	uv_buf_t reply = uv_buf_init(data, (unsigned int)length);
	if (uv_write(request, (uv_stream_t *)&connection->handle, &reply, 1, on_written) != 0) {
		free(data);
		free(request);
	}
}

static void on_read(uv_stream_t *stream, ssize_t length, const uv_buf_t *buffer)
{
	struct connection *connection = connection_of((uv_handle_t *)stream);
	memscope_task_enter(connection->task);
	if (length > 0) {
		struct session *session = connection->session;
		if (session != NULL) {
			session->messages++;
			session->bytes += (uint64_t)length;
		}
		if (session != NULL && length == 5 && memcmp(buffer->base, "quit\n", 5) == 0) {
			sessions_quit++;
			quit_sessions_messages += session->messages;
			quit_sessions_bytes += session->bytes;
			free(session);
			connection->session = NULL;
		}
		messages_echoed++;
		echo(connection, buffer->base, (size_t)length);
	} else {
		/* 0: nothing to read after all; negative: the end of the
		 * stream (UV_EOF) or an error.  Either way the buffer is
		 * unused. */
		free(buffer->base);
		if (length < 0)
			uv_close((uv_handle_t *)stream, on_closed);
	}
	memscope_task_leave(connection->task);
}

static void on_connection(uv_stream_t *listener, int status)
{
	if (status < 0)
		return;
	uint64_t task = next_task++;
	memscope_task_begin(task, "conn", 0);
	memscope_task_enter(task);
	struct connection *connection = malloc(sizeof *connection);
	if (connection == NULL || uv_tcp_init(&loop, &connection->handle) != 0) {
		free(connection);
		memscope_task_end(task);
		return;
	}
	connection->task = task;
	connection->session = calloc(1, sizeof *connection->session);
	int error = connection->session != NULL
	                ? uv_accept(listener, (uv_stream_t *)&connection->handle)
	                : UV_ENOMEM;
	memscope_task_leave(task);
	/* Outside the task: uv_read_start grows the loop's table of watched
	 * descriptors when this one is past its end, a realloc that belongs
	 * to the loop, not to whichever connection happened to need it. */
	if (error == 0)
		error = uv_read_start((uv_stream_t *)&connection->handle, on_alloc, on_read);
	if (error != 0) {
		memscope_task_enter(task);
		free(connection->session);
		connection->session = NULL;
		uv_close((uv_handle_t *)&connection->handle, on_closed);
		memscope_task_leave(task);
	}
}

static void on_client_failed(uv_async_t *async)
{
	uv_stop(async->loop);
}

/* ---- The client, on a thread of its own ---- */

static const struct {
	int messages;
	bool quits;
} scripts[CONNECTIONS] = {{2, true}, {4, true}, {6, false}};

static struct sockaddr_in server_address;
static unsigned int echoes_verified;
static bool client_ok;

/* Sends one message and waits for the whole of its echo. */
static bool ping(int socket_fd, const char *message, size_t length)
{
	if (send(socket_fd, message, length, MSG_NOSIGNAL) != (ssize_t)length)
		return false;
	char echoed[READ_BUFFER_BYTES];
	size_t received = 0;
	while (received < length) {
		ssize_t got = recv(socket_fd, echoed + received, length - received, 0);
		if (got <= 0)
			return false;
		received += (size_t)got;
	}
	return memcmp(echoed, message, length) == 0;
}

static bool converse(const int sockets[CONNECTIONS])
{
	int most = 0;
	for (int i = 0; i < CONNECTIONS; i++)
		most = scripts[i].messages > most ? scripts[i].messages : most;
	/* One message to each connection in turn, so that the server's
	 * callbacks for different connections interleave. */
	for (int number = 1; number <= most; number++) {
		for (int i = 0; i < CONNECTIONS; i++) {
			if (number > scripts[i].messages)
				continue;
			char message[64];
			int length = snprintf(message, sizeof message, "message %d of connection %d\n",
			                      number, i + 1);
			if (!ping(sockets[i], message, (size_t)length))
				return false;
			echoes_verified++;
		}
	}
	for (int i = 0; i < CONNECTIONS; i++) {
		if (!scripts[i].quits)
			continue;
		if (!ping(sockets[i], "quit\n", 5))
			return false;
		echoes_verified++;
	}
	return true;
}

static void *client(void *unused)
{
	(void)unused;
	int sockets[CONNECTIONS];
	int opened = 0;
	/* Every socket before the first connect: the server's accepted
	 * descriptors then get the same numbers in every run. */
	for (; opened < CONNECTIONS; opened++) {
		sockets[opened] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sockets[opened] < 0)
			break;
	}
	bool ok = opened == CONNECTIONS;
	for (int i = 0; ok && i < CONNECTIONS; i++)
		ok = connect(sockets[i], (const struct sockaddr *)&server_address,
		             sizeof server_address) == 0;
	ok = ok && converse(sockets);
	for (int i = 0; i < opened; i++)
		close(sockets[i]);
	client_ok = ok;
	if (!ok)
		uv_async_send(&client_failed);
	return NULL;
}

/* libuv asserts that none of its own descriptors is 0, 1 or 2: started
 * with one of those closed, the program would abort when libuv closed the
 * descriptor that took its place.  /dev/null holds each closed one. */
static void hold_standard_descriptors(void)
{
	int fd;
	do
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd <= STDERR_FILENO);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	hold_standard_descriptors();
	struct sockaddr_in address;
	int address_length = sizeof server_address;
	if (uv_loop_init(&loop) != 0 || uv_async_init(&loop, &client_failed, on_client_failed) != 0 ||
	    uv_ip4_addr("127.0.0.1", 0, &address) != 0 || uv_tcp_init(&loop, &server) != 0 ||
	    uv_tcp_bind(&server, (const struct sockaddr *)&address, 0) != 0 ||
	    uv_listen((uv_stream_t *)&server, CONNECTIONS, on_connection) != 0 ||
	    uv_tcp_getsockname(&server, (struct sockaddr *)&server_address, &address_length) != 0) {
		complain("echo_server: cannot listen on 127.0.0.1\n");
		return 2;
	}

	pthread_t thread;
	if (pthread_create(&thread, NULL, client, NULL) != 0) {
		complain("echo_server: cannot start the client thread\n");
		return 2;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	pthread_join(thread, NULL);
	if (!client_ok) {
		complain("echo_server: the client got no echo, or a wrong one\n");
		return 1;
	}
	uv_loop_close(&loop);

	char line[160];
	int length = snprintf(line, sizeof line,
	                      "echo_server: %u connections, %u messages echoed (%u verified), "
	                      "%u sessions quit after %llu messages (%llu bytes)\n",
	                      connections_closed, messages_echoed, echoes_verified, sessions_quit,
	                      (unsigned long long)quit_sessions_messages,
	                      (unsigned long long)quit_sessions_bytes);
	return length > 0 && write(1, line, (size_t)length) == length ? 0 : 1;
}

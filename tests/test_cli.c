/* test_cli.c - the memscope command as a user meets it: refusals before the
 * program runs, usage errors, and a traced program's exit status, death by
 * signal, stdin and stdout passing through untouched.
 *
 * Runs the built memscope, whose path is argv[1], for real: the end-to-end
 * cases need the preload library and jemalloc it finds on its own.  Each case
 * runs memscope in a fresh temporary directory, with stdin from a file and
 * stdout and stderr captured to files.  Cases whose prerequisites are missing
 * (a static libc, root, a group to borrow) say so on stderr and pass.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

static char *memscope_path;
/* One directory for the whole run, removed by main even when a case fails
 * (a failing case's process ends before its teardown); a subdirectory of it
 * per case. */
static char root_dir[] = "/tmp/memscope-test-cli.XXXXXX";
static char temp_dir[sizeof(root_dir) + 16];
static char work_dir[sizeof(temp_dir) + 8];

struct outcome {
	int wait_status;
	char *out;
	size_t out_length;
	char *err;
	size_t err_length;
};

static void setup(void)
{
	/* Afresh each time: with CK_FORK=no the cases share this process. */
	snprintf(temp_dir, sizeof(temp_dir), "%s/case.XXXXXX", root_dir);
	ck_assert_ptr_nonnull(mkdtemp(temp_dir));
	snprintf(work_dir, sizeof(work_dir), "%s/work", temp_dir);
	ck_assert_int_eq(mkdir(work_dir, 0755), 0);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *where)
{
	(void)st;
	(void)type;
	(void)where;
	remove(path);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void teardown(void)
{
	remove_tree(temp_dir);
}

static char *temp_path(const char *name)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/%s", temp_dir, name), 0);
	return path;
}

static char *work_path(const char *name)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/%s", work_dir, name), 0);
	return path;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The whole file, NUL-terminated (the length counts any NULs inside). */
static char *read_file(const char *path, size_t *length)
{
	FILE *file = fopen(path, "rb");
	char *text = NULL;
	size_t size = 0;

	ck_assert_ptr_nonnull(file);
	FILE *buffer = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(buffer);
	int c;
	while ((c = fgetc(file)) != EOF)
		fputc(c, buffer);
	fclose(buffer);
	fclose(file);
	*length = size;
	return text;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Runs memscope with args (NULL-terminated) in work_dir, input on its stdin
 * (none when NULL), and collects how it ended and what it printed. */
static void run_memscope(const char *const *args, const char *input, struct outcome *outcome)
{
	char *in_path = temp_path("stdin");
	char *out_path = temp_path("stdout");
	char *err_path = temp_path("stderr");
	size_t count = 0;

	write_file(in_path, input != NULL ? input : "", 0644);
	while (args[count] != NULL)
		count++;
	char **argv = calloc(count + 2, sizeof(*argv));
	ck_assert_ptr_nonnull(argv);
	argv[0] = memscope_path;
	for (size_t i = 0; i < count; i++)
		argv[i + 1] = (char *)args[i];

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A program killed on purpose must not leave a core behind. */
		struct rlimit no_core = { 0, 0 };
		int in = open(in_path, O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || out < 0 || err < 0 || chdir(work_dir) != 0)
			_exit(99);
		dup2(in, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		setrlimit(RLIMIT_CORE, &no_core);
		execv(memscope_path, argv);
		_exit(98);
	}
	while (waitpid(pid, &outcome->wait_status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	outcome->out = read_file(out_path, &outcome->out_length);
	outcome->err = read_file(err_path, &outcome->err_length);
	free(argv);
	free(in_path);
	free(out_path);
	free(err_path);
}

static void outcome_finish(struct outcome *outcome)
{
	free(outcome->out);
	free(outcome->err);
}

static void assert_exit(const struct outcome *outcome, int status)
{
	if (!WIFEXITED(outcome->wait_status) || WEXITSTATUS(outcome->wait_status) != status)
		ck_abort_msg("expected exit %d, got wait status %#x; stderr:\n%s", status,
			     outcome->wait_status, outcome->err);
}

static void assert_stderr_has(const struct outcome *outcome, const char *text)
{
	if (strstr(outcome->err, text) == NULL)
		ck_abort_msg("stderr lacks \"%s\":\n%s", text, outcome->err);
}

static void skip(const char *reason)
{
	fprintf(stderr, "test_cli: skipped: %s\n", reason);
}

START_TEST(program_not_found)
{
	const char *args[] = { "memscope-test-no-such-program", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 127);
	assert_stderr_has(&outcome, "memscope: cannot run 'memscope-test-no-such-program': "
			  "not found in PATH");
	ck_assert_uint_eq(outcome.out_length, 0);
	outcome_finish(&outcome);
}
END_TEST

START_TEST(program_not_executable)
{
	char *data = work_path("data.txt");
	const char *args[] = { "./data.txt", NULL };
	struct outcome outcome;

	write_file(data, "not a program\n", 0644);
	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 126);
	assert_stderr_has(&outcome, "cannot run './data.txt'");
	assert_stderr_has(&outcome, "not executable");
	outcome_finish(&outcome);
	free(data);
}
END_TEST

START_TEST(static_program_refused)
{
	if (access("/usr/lib/x86_64-linux-gnu/libc.a", R_OK) != 0) {
		skip("no static libc (/usr/lib/x86_64-linux-gnu/libc.a) to build a static program");
		return;
	}
	char *source = temp_path("static.c");
	char *program = temp_path("static");
	char *marker = work_path("ran");
	char *command;

	/* If memscope let it run, it would leave a marker behind. */
	write_file(source, "#include <stdio.h>\n"
		   "int main(void) { return fopen(\"ran\", \"w\") == NULL; }\n", 0644);
	ck_assert_int_ge(asprintf(&command, "cc -static -o %s %s", program, source), 0);
	if (system(command) != 0) {
		skip("cc -static failed");
	} else {
		const char *args[] = { program, NULL };
		struct outcome outcome;

		run_memscope(args, NULL, &outcome);
		assert_exit(&outcome, 1);
		assert_stderr_has(&outcome, "statically linked");
		assert_stderr_has(&outcome, program);
		ck_assert(!file_exists(marker));
		outcome_finish(&outcome);
	}
	free(command);
	free(marker);
	free(program);
	free(source);
}
END_TEST

static void copy_file(const char *from, const char *to, mode_t mode)
{
	size_t length;
	char *content = read_file(from, &length);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, length), (ssize_t)length);
	close(fd);
	free(content);
}

START_TEST(setgid_program_refused)
{
	struct group *nogroup = getgrnam("nogroup");
	struct statvfs filesystem;

	if (getuid() != 0) {
		skip("setgid case needs root, to give a file another group");
		return;
	}
	if (nogroup == NULL || nogroup->gr_gid == getgid()) {
		skip("no group 'nogroup' other than the real group");
		return;
	}
	if (statvfs(temp_dir, &filesystem) == 0 && (filesystem.f_flag & ST_NOSUID)) {
		skip("/tmp is mounted nosuid, where setgid means nothing");
		return;
	}
	char *program = temp_path("setgid-true");
	const char *args[] = { program, NULL };
	struct outcome outcome;

	copy_file("/bin/true", program, 0755);
	ck_assert_int_eq(chown(program, 0, nogroup->gr_gid), 0);
	ck_assert_int_eq(chmod(program, 02755), 0);
	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 1);
	assert_stderr_has(&outcome, "setgid");
	assert_stderr_has(&outcome, "LD_PRELOAD");
	outcome_finish(&outcome);
	free(program);
}
END_TEST

START_TEST(unwritable_output_refused_before_running)
{
	char *output = temp_path("no-such-dir/x.memscope");
	char *marker = work_path("ran");
	char *expected;
	const char *args[] = { "-o", output, "--", "sh", "-c", "touch ran", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 1);
	ck_assert_int_ge(asprintf(&expected, "memscope: cannot write capture to %s: ", output), 0);
	assert_stderr_has(&outcome, expected);
	assert_stderr_has(&outcome, "-o");
	ck_assert_msg(!file_exists(marker), "the program ran although its capture was refused");
	outcome_finish(&outcome);
	free(expected);
	free(marker);
	free(output);
}
END_TEST

START_TEST(help_mentions_backend)
{
	const char *overview[] = { "--help", NULL };
	const char *run_help[] = { "run", "--help", NULL };
	const char *help_run[] = { "help", "run", NULL };
	const char *const *cases[] = { overview, run_help, help_run };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome outcome;

		run_memscope(cases[i], NULL, &outcome);
		assert_exit(&outcome, 0);
		ck_assert_msg(strstr(outcome.out, "--backend") != NULL,
			      "help %zu on stdout lacks --backend:\n%s", i, outcome.out);
		outcome_finish(&outcome);
	}
}
END_TEST

START_TEST(unknown_backend_lists_valid_ones)
{
	const char *args[] = { "--backend", "bogus", "true", NULL };
	const char *valid[] = { "exact", "lockfree", "async", "hybrid" };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "'bogus'");
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		assert_stderr_has(&outcome, valid[i]);
	outcome_finish(&outcome);
}
END_TEST

/* --exact-above is the hybrid backend's, and takes a size. */
START_TEST(bad_threshold_options_are_refused_before_running)
{
	const char *elsewhere[] = { "--backend", "lockfree", "--exact-above", "1M", "sh", "-c",
	                            "echo ran", NULL };
	struct outcome outcome;
	run_memscope(elsewhere, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "--exact-above applies to the hybrid backend");
	ck_assert_str_eq(outcome.out, "");
	outcome_finish(&outcome);
	const char *budget_elsewhere[] = { "--backend", "exact", "--event-budget", "200k", "sh",
	                                   "-c", "echo ran", NULL };
	run_memscope(budget_elsewhere, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "--event-budget applies to the hybrid backend");
	ck_assert_str_eq(outcome.out, "");
	outcome_finish(&outcome);
	const char *rates[] = { "0", "-5", "10x", "3/m", "" };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		const char *args[] = { "--backend", "hybrid", "--event-budget", rates[i], "sh", "-c",
		                       "echo ran", NULL };
		run_memscope(args, NULL, &outcome);
		assert_exit(&outcome, 2);
		assert_stderr_has(&outcome, "--event-budget takes events per second");
		ck_assert_str_eq(outcome.out, "");
		outcome_finish(&outcome);
	}
	const char *values[] = { "0", "-1", "4Q", "" };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *args[] = { "--backend", "hybrid", "--exact-above", values[i], "sh", "-c",
		                       "echo ran", NULL };
		run_memscope(args, NULL, &outcome);
		assert_exit(&outcome, 2);
		assert_stderr_has(&outcome, "--exact-above takes a number of bytes");
		ck_assert_str_eq(outcome.out, "");
		outcome_finish(&outcome);
	}
}
END_TEST

START_TEST(bad_sampling_options_are_refused_before_running)
{
	const char *intervals[] = { "0", "-5", "12Q", "", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
		const char *args[] = { "--backend", "lockfree", "--sample-interval", intervals[i],
		                       "sh", "-c", "echo ran", NULL };
		struct outcome outcome;
		run_memscope(args, NULL, &outcome);
		assert_exit(&outcome, 2);
		assert_stderr_has(&outcome, "--sample-interval takes a number of bytes");
		ck_assert_str_eq(outcome.out, "");
		outcome_finish(&outcome);
	}
	const char *seed_args[] = { "--backend", "lockfree", "--sample-seed", "x1",
	                            "sh", "-c", "echo ran", NULL };
	struct outcome outcome;
	run_memscope(seed_args, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "--sample-seed takes a whole number, not 'x1'");
	outcome_finish(&outcome);

	const char *allocator_args[] = { "--allocator", "tcmalloc", "sh", "-c", "echo ran", NULL };
	run_memscope(allocator_args, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "unknown allocator 'tcmalloc'");
	outcome_finish(&outcome);

	/* jemalloc's hooks see only jemalloc's blocks. */
	const char *hooks_args[] = { "--backend", "lockfree", "--capture", "hooks", "--allocator",
	                             "libc", "sh", "-c", "echo ran", NULL };
	run_memscope(hooks_args, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "use --allocator jemalloc");
	ck_assert_str_eq(outcome.out, "");
	outcome_finish(&outcome);

	/* The exact backend records every event: an interval would be ignored. */
	const char *exact_args[] = { "--sample-interval", "4K", "sh", "-c", "echo ran", NULL };
	run_memscope(exact_args, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "add --backend lockfree");
	ck_assert_str_eq(outcome.out, "");
	outcome_finish(&outcome);
}
END_TEST

START_TEST(unknown_option_points_to_help)
{
	const char *args[] = { "--no-such-option", "true", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "--no-such-option");
	assert_stderr_has(&outcome, "--help");
	ck_assert_uint_eq(outcome.out_length, 0);
	outcome_finish(&outcome);
}
END_TEST

START_TEST(exit_status_passes_through)
{
	const char *args[] = { "sh", "-c", "exit 7", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 7);
	assert_stderr_has(&outcome, "memscope: wrote ");
	assert_stderr_has(&outcome, "memscope report ");
	outcome_finish(&outcome);
}
END_TEST

START_TEST(death_by_signal_passes_through)
{
	const char *args[] = { "sh", "-c", "kill -SEGV $$", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	if (!WIFSIGNALED(outcome.wait_status) || WTERMSIG(outcome.wait_status) != SIGSEGV)
		ck_abort_msg("expected death by SIGSEGV, got wait status %#x; stderr:\n%s",
			     outcome.wait_status, outcome.err);
	assert_stderr_has(&outcome, "memscope: program killed by signal 11 (");
	outcome_finish(&outcome);
}
END_TEST

START_TEST(stdout_untouched)
{
	const char *args[] = { "printf", "a\\nb", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_uint_eq(outcome.out_length, 3);
	ck_assert_mem_eq(outcome.out, "a\nb", 3);
	outcome_finish(&outcome);
}
END_TEST

START_TEST(stdin_passed)
{
	static const char input[] = "first line\nsecond line\n";
	const char *args[] = { "-q", "--", "cat", NULL };
	struct outcome outcome;

	run_memscope(args, input, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_uint_eq(outcome.out_length, strlen(input));
	ck_assert_mem_eq(outcome.out, input, strlen(input));
	outcome_finish(&outcome);
}
END_TEST

START_TEST(program_options_untouched)
{
	/* Options after the program's name are the program's, even memscope's. */
	const char *args[] = { "-q", "printf", "%s|", "--backend", "-q", "--", "-o", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_str_eq(outcome.out, "--backend|-q|--|-o|");
	outcome_finish(&outcome);
}
END_TEST

START_TEST(default_capture_named_after_program_and_pid)
{
	/* The shell is the traced process itself, so $$ is the pid in the name. */
	const char *args[] = { "-q", "sh", "-c", "echo $$", NULL };
	struct outcome outcome;
	struct stat st;
	char *name;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_int_gt(atoi(outcome.out), 0);
	ck_assert_int_ge(asprintf(&name, "memscope.sh.%d.memscope", atoi(outcome.out)), 0);
	char *path = work_path(name);
	ck_assert_msg(stat(path, &st) == 0, "no capture %s", path);
	ck_assert_int_gt(st.st_size, 0);
	outcome_finish(&outcome);
	free(path);
	free(name);
}
END_TEST

START_TEST(output_option_names_capture)
{
	const char *args[] = { "-q", "-o", "chosen.memscope", "true", NULL };
	char *path = work_path("chosen.memscope");
	struct outcome outcome;
	struct stat st;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_msg(stat(path, &st) == 0, "no capture %s", path);
	ck_assert_int_gt(st.st_size, 0);
	outcome_finish(&outcome);
	free(path);
}
END_TEST

/* Whether the work directory holds a file left half-written: NAME.partial. */
static bool partial_left(void)
{
	DIR *directory = opendir(work_dir);
	ck_assert_ptr_nonnull(directory);
	bool found = false;
	struct dirent *entry;
	while ((entry = readdir(directory)) != NULL)
		found |= strstr(entry->d_name, ".partial") != NULL;
	closedir(directory);
	return found;
}

/* That the file at path holds exactly the length bytes at expected. */
static void assert_file_holds(const char *path, const char *expected, size_t length)
{
	size_t got;
	char *content = read_file(path, &got);
	ck_assert_uint_eq(got, length);
	ck_assert_mem_eq(content, expected, length);
	free(content);
}

static void assert_file_is(const char *name, const char *text)
{
	char *path = work_path(name);
	assert_file_holds(path, text, strlen(text));
	free(path);
}

/* -o naming the program would destroy it: refused before anything runs. */
START_TEST(output_that_is_the_program_is_refused)
{
	char *program = work_path("prog");
	copy_file("/bin/true", program, 0755);
	size_t length;
	char *before = read_file(program, &length);
	const char *args[] = { "-o", "prog", "./prog", NULL };
	struct outcome outcome;

	run_memscope(args, NULL, &outcome);
	assert_exit(&outcome, 1);
	assert_stderr_has(&outcome, "-o prog is the program itself");
	assert_file_holds(program, before, length);
	outcome_finish(&outcome);
	free(before);
	free(program);
}
END_TEST

/* An existing capture named by -o is replaced only by a new capture: a
 * program that cannot start leaves it as it was; one that runs replaces
 * it, and nothing half-written is left beside it. */
START_TEST(existing_output_is_replaced_only_by_a_capture)
{
	char *capture = work_path("keep.memscope");
	char *script = work_path("script");
	write_file(capture, "an older capture", 0644);
	write_file(script, "#!/nonexistent/interpreter\n", 0755);
	const char *failing[] = { "-o", "keep.memscope", "./script", NULL };
	struct outcome outcome;

	run_memscope(failing, NULL, &outcome);
	assert_exit(&outcome, 127);
	assert_file_is("keep.memscope", "an older capture");
	ck_assert(!partial_left());
	outcome_finish(&outcome);

	const char *running[] = { "-q", "-o", "keep.memscope", "true", NULL };
	run_memscope(running, NULL, &outcome);
	assert_exit(&outcome, 0);
	size_t length;
	char *content = read_file(capture, &length);
	ck_assert_uint_gt(length, 16);
	ck_assert_mem_eq(content, "MEMSCOPE", 8);
	ck_assert(!partial_left());
	outcome_finish(&outcome);
	free(content);
	free(script);
	free(capture);
}
END_TEST

/* A report written over its own capture would empty it: refused.  A
 * report that fails leaves the file -o names as it was. */
START_TEST(report_output_never_destroys_a_file)
{
	const char *trace[] = { "-q", "-o", "c.memscope", "true", NULL };
	struct outcome outcome;
	run_memscope(trace, NULL, &outcome);
	assert_exit(&outcome, 0);
	outcome_finish(&outcome);
	char *capture = work_path("c.memscope");
	size_t length;
	char *before = read_file(capture, &length);

	const char *over[] = { "report", "c.memscope", "--format", "binary", "-o", "c.memscope",
	                       NULL };
	run_memscope(over, NULL, &outcome);
	assert_exit(&outcome, 2);
	assert_stderr_has(&outcome, "is the capture being read");
	assert_file_holds(capture, before, length);
	outcome_finish(&outcome);

	char *kept = work_path("kept.txt");
	write_file(kept, "an older report", 0644);
	const char *failing[] = { "report", "missing.memscope", "-o", "kept.txt", NULL };
	run_memscope(failing, NULL, &outcome);
	assert_exit(&outcome, 1);
	assert_file_is("kept.txt", "an older report");
	const char *failing_json[] = { "report", "missing.memscope", "--format", "json", "-o",
	                               "kept.txt", NULL };
	outcome_finish(&outcome);
	run_memscope(failing_json, NULL, &outcome);
	ck_assert(WIFEXITED(outcome.wait_status) && WEXITSTATUS(outcome.wait_status) != 0);
	assert_file_is("kept.txt", "an older report");
	ck_assert(!partial_left());
	outcome_finish(&outcome);
	free(kept);
	free(before);
	free(capture);
}
END_TEST

/* Names from the capture are the program's and may hold any bytes: a
 * program named with an escape sequence is shown as \x1b..., never sent to
 * the terminal as one, in the report and in the run's summary. */
START_TEST(control_bytes_are_shown_not_sent)
{
	char *program = work_path("evil\033[2Jname");
	copy_file("/bin/true", program, 0755);
	const char *trace[] = { "-o", "esc.memscope", "./evil\033[2Jname", NULL };
	struct outcome outcome;
	run_memscope(trace, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_msg(memchr(outcome.err, '\033', outcome.err_length) == NULL,
	              "the summary sent an escape: %s", outcome.err);
	outcome_finish(&outcome);

	const char *report[] = { "report", "esc.memscope", NULL };
	run_memscope(report, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert_msg(memchr(outcome.out, '\033', outcome.out_length) == NULL,
	              "the report sent an escape: %s", outcome.out);
	ck_assert_msg(strstr(outcome.out, "evil\\x1b[2Jname") != NULL, "%s", outcome.out);
	outcome_finish(&outcome);
	free(program);
}
END_TEST

/* libdw is loaded when a report first needs symbols: where it cannot be,
 * the report still comes, with addresses for names, and says why. */
START_TEST(report_without_libdw_shows_addresses)
{
	const char *trace[] = { "-q", "-o", "plain.memscope", "ls", "-a", NULL };
	const char *report[] = { "report", "plain.memscope", NULL };
	struct outcome outcome;

	run_memscope(trace, NULL, &outcome);
	assert_exit(&outcome, 0);
	outcome_finish(&outcome);

	/* An empty file where the loader looks first: dlopen refuses it. */
	char *directory = temp_path("no-libdw");
	ck_assert_int_eq(mkdir(directory, 0755), 0);
	char *fake = temp_path("no-libdw/libdw.so.1");
	write_file(fake, "", 0644);
	ck_assert_int_eq(setenv("LD_LIBRARY_PATH", directory, 1), 0);
	run_memscope(report, NULL, &outcome);
	unsetenv("LD_LIBRARY_PATH");
	assert_exit(&outcome, 0);
	ck_assert_msg(strstr(outcome.out, "cannot load libdw") != NULL, "no warning in:\n%s",
		      outcome.out);
	ck_assert_msg(strstr(outcome.out, "TOTALS") != NULL && strstr(outcome.out, "?? (ls+0x") != NULL,
		      "no report with addresses:\n%s", outcome.out);
	outcome_finish(&outcome);

	run_memscope(report, NULL, &outcome);
	assert_exit(&outcome, 0);
	ck_assert(strstr(outcome.out, "cannot load libdw") == NULL);
	outcome_finish(&outcome);
	free(fake);
	free(directory);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *suite = suite_create("cli");
	TCase *refusals = tcase_create("refusals");
	TCase *traced = tcase_create("traced");

	tcase_add_checked_fixture(refusals, setup, teardown);
	tcase_set_timeout(refusals, 60);
	tcase_add_test(refusals, program_not_found);
	tcase_add_test(refusals, program_not_executable);
	tcase_add_test(refusals, static_program_refused);
	tcase_add_test(refusals, setgid_program_refused);
	tcase_add_test(refusals, unwritable_output_refused_before_running);
	tcase_add_test(refusals, help_mentions_backend);
	tcase_add_test(refusals, unknown_backend_lists_valid_ones);
	tcase_add_test(refusals, bad_threshold_options_are_refused_before_running);
	tcase_add_test(refusals, bad_sampling_options_are_refused_before_running);
	tcase_add_test(refusals, unknown_option_points_to_help);
	suite_add_tcase(suite, refusals);

	/* These run a program under the preload library and jemalloc, and wait
	 * for the summary, which symbolizes. */
	tcase_add_checked_fixture(traced, setup, teardown);
	tcase_set_timeout(traced, 120);
	tcase_add_test(traced, exit_status_passes_through);
	tcase_add_test(traced, death_by_signal_passes_through);
	tcase_add_test(traced, stdout_untouched);
	tcase_add_test(traced, stdin_passed);
	tcase_add_test(traced, program_options_untouched);
	tcase_add_test(traced, default_capture_named_after_program_and_pid);
	tcase_add_test(traced, output_option_names_capture);
	tcase_add_test(traced, output_that_is_the_program_is_refused);
	tcase_add_test(traced, existing_output_is_replaced_only_by_a_capture);
	tcase_add_test(traced, report_output_never_destroys_a_file);
	tcase_add_test(traced, control_bytes_are_shown_not_sent);
	tcase_add_test(traced, report_without_libdw_shows_addresses);
	suite_add_tcase(suite, traced);
	return suite;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-OF-MEMSCOPE\n", argv[0]);
		return EXIT_FAILURE;
	}
	/* Each case runs memscope from its own directory. */
	memscope_path = realpath(argv[1], NULL);
	if (memscope_path == NULL) {
		fprintf(stderr, "test_cli: cannot find %s: %s\n", argv[1], strerror(errno));
		return EXIT_FAILURE;
	}

	if (mkdtemp(root_dir) == NULL) {
		fprintf(stderr, "test_cli: cannot create %s: %s\n", root_dir, strerror(errno));
		return EXIT_FAILURE;
	}

	SRunner *runner = srunner_create(cli_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	remove_tree(root_dir);
	free(memscope_path);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

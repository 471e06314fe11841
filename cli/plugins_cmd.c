/* plugins_cmd.c - `memscope plugins` (what is installed) and `memscope
 * analyze` (run analyzer plugins on a capture, print their results), and
 * the export that `memscope report --format` does through an exporter. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output_file.h"
#include "visible.h"
#include "host.h"
#include "capture_view.h"
#include "registry.h"
#include "results.h"
#include "results_text.h"

enum {
	EXIT_USAGE = 2,
	MAX_ANALYZERS = 32,
	MAX_OPTIONS = 32,
};

/* Analyzers run when none is named. */
static const char *const default_analyzers[] = {"leaks", "hotspots", "fragmentation"};

static void print_refusals(const struct plugin_registry *registry)
{
	for (size_t i = 0; i < plugin_registry_refusal_count(registry); i++)
		fprintf(stderr, "memscope: refused plugin %s\n", plugin_registry_refusal(registry, i));
}

/* ---- memscope plugins ---------------------------------------------------- */

static void plugins_usage(FILE *out)
{
	fputs("Usage: memscope plugins [--plugin-path DIRS]\n"
	      "\n"
	      "List the analyzer and exporter plugins memscope finds, with their\n"
	      "versions and files, and any file it refused and why.\n"
	      "\n"
	      "  --plugin-path DIRS  also look in these directories (colon-separated),\n"
	      "                      before MEMSCOPE_PLUGIN_PATH and the installed ones\n"
	      "  -h, --help          show this help\n",
	      out);
}

int plugins_command(int argc, char **argv)
{
	static const struct option options[] = {
		{"plugin-path", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *plugin_path = NULL;
	opterr = 0;
	optind = 0;
	int option;
	while ((option = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		if (option == 'p') {
			plugin_path = optarg;
		} else if (option == 'h') {
			plugins_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "memscope plugins: unknown option '%s'; see 'memscope plugins --help'\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	struct plugin_registry *registry;
	if (plugin_registry_create(&registry) < 0 ||
	    plugin_registry_load_defaults(registry, plugin_path) < 0) {
		fprintf(stderr, "memscope plugins: out of memory\n");
		plugin_registry_destroy(registry);
		return 1;
	}
	struct plugin_listing listing;
	printf("Analyzers:\n");
	for (size_t i = 0; plugin_registry_analyzer_listing(registry, i, &listing); i++)
		printf("  %-16s %s\n  %-16s (%s %s, %s)\n", listing.name, listing.description, "",
		       listing.plugin_name, listing.plugin_version, listing.path);
	printf("Exporters:\n");
	for (size_t i = 0; plugin_registry_exporter_listing(registry, i, &listing); i++)
		printf("  %-16s .%s: %s\n  %-16s (%s %s, %s)\n", listing.name, listing.extension,
		       listing.description, "", listing.plugin_name, listing.plugin_version, listing.path);
	print_refusals(registry);
	plugin_registry_destroy(registry);
	return 0;
}

/* ---- running analyzers ---------------------------------------------------- */

struct analysis {
	struct plugin_registry *registry;
	struct memscope_capture *capture;
	struct memscope_results *results[MAX_ANALYZERS];
	size_t result_count;
	bool failed;               /* an analyzer failed: its results, if any, are partial */
};

/* Loads plugins, opens the capture, applies options and runs the analyzers
 * named (or the default ones that are installed).  Returns 0, or prints why
 * not and returns the exit status. */
static int analyze(struct analysis *analysis, const char *who, const char *path,
                   const char *plugin_path, const char *const *names, size_t name_count,
                   char *const *options, size_t option_count)
{
	*analysis = (struct analysis){0};
	if (plugin_registry_create(&analysis->registry) < 0 ||
	    plugin_registry_load_defaults(analysis->registry, plugin_path) < 0) {
		fprintf(stderr, "%s: out of memory\n", who);
		return 1;
	}
	print_refusals(analysis->registry);

	bool defaults = name_count == 0;
	if (defaults) {
		names = default_analyzers;
		name_count = sizeof default_analyzers / sizeof default_analyzers[0];
	}
	for (size_t i = 0; i < name_count; i++) {
		if (!defaults && plugin_registry_analyzer(analysis->registry, names[i]) == NULL) {
			fprintf(stderr, "%s: no analyzer '%s'; 'memscope plugins' lists the installed ones\n",
			        who, names[i]);
			return EXIT_USAGE;
		}
	}

	const char *message = NULL;
	int error = capture_view_open(path, &analysis->capture, &message);
	if (error < 0) {
		fprintf(stderr, "%s: cannot read %s: %s\n", who, path,
		        message ? message : strerror(-error));
		return 1;
	}
	for (size_t i = 0; i < option_count; i++) {
		char *equals = strchr(options[i], '=');
		if (equals == NULL) {
			fprintf(stderr, "%s: --option takes key=value, not '%s'\n", who, options[i]);
			return EXIT_USAGE;
		}
		*equals = '\0';
		error = capture_view_set_option(analysis->capture, options[i], equals + 1);
		*equals = '=';
		if (error < 0) {
			fprintf(stderr, "%s: out of memory\n", who);
			return 1;
		}
	}

	for (size_t i = 0; i < name_count && analysis->result_count < MAX_ANALYZERS; i++) {
		const memscope_analyzer *analyzer = plugin_registry_analyzer(analysis->registry, names[i]);
		if (analyzer == NULL) {
			/* A default analyzer that is not installed: say so, go on. */
			fprintf(stderr, "%s: analyzer '%s' is not installed; skipped\n", who, names[i]);
			continue;
		}
		struct memscope_results *results = NULL;
		error = plugin_run_analyzer(analyzer, analysis->capture, &results);
		if (error < 0) {
			fprintf(stderr, "%s: analyzer '%s' failed: %s (its results so far are kept)\n", who,
			        names[i], strerror(-error));
			analysis->failed = true;
		}
		if (results != NULL)
			analysis->results[analysis->result_count++] = results;
	}
	return 0;
}

static void analysis_finish(struct analysis *analysis)
{
	for (size_t i = 0; i < analysis->result_count; i++)
		results_destroy(analysis->results[i]);
	capture_view_close(analysis->capture);
	/* Last: the plugins' code and strings go with it. */
	plugin_registry_destroy(analysis->registry);
}

/* ---- memscope analyze ----------------------------------------------------- */

static void analyze_usage(FILE *out)
{
	fputs("Usage: memscope analyze [options] FILE\n"
	      "\n"
	      "Run analyzer plugins on a capture and print their results.  Without\n"
	      "--analyzer: leaks, hotspots and fragmentation.\n"
	      "\n"
	      "  -a, --analyzer NAME   run this analyzer (again for more)\n"
	      "  --option KEY=VALUE    an option for the analyzers (e.g. top=50)\n"
	      "  --plugin-path DIRS    also look for plugins here (colon-separated)\n"
	      "  --top N               rows shown per table (default 20, 0 = all)\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "'memscope plugins' lists the analyzers there are.\n",
	      out);
}

int analyze_command(int argc, char **argv)
{
	static const struct option options[] = {
		{"analyzer", required_argument, NULL, 'a'},
		{"option", required_argument, NULL, 'O'},
		{"plugin-path", required_argument, NULL, 'p'},
		{"top", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *names[MAX_ANALYZERS];
	char *analyzer_options[MAX_OPTIONS];
	size_t name_count = 0, option_count = 0;
	const char *plugin_path = NULL;
	unsigned long top = 20;
	opterr = 0;
	optind = 0;
	int option;
	while ((option = getopt_long(argc, argv, "a:h", options, NULL)) != -1) {
		switch (option) {
		case 'a':
			if (name_count < MAX_ANALYZERS)
				names[name_count++] = optarg;
			break;
		case 'O':
			if (option_count < MAX_OPTIONS)
				analyzer_options[option_count++] = optarg;
			break;
		case 'p':
			plugin_path = optarg;
			break;
		case 't': {
			char *end;
			top = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr, "memscope analyze: --top takes a number, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'h':
			analyze_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "memscope analyze: bad option '%s'; see 'memscope analyze --help'\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "memscope analyze: %s; see 'memscope analyze --help'\n",
		        optind == argc ? "which capture FILE?" : "one capture FILE at a time");
		return EXIT_USAGE;
	}

	return analyze_to_text("memscope analyze", argv[optind], plugin_path, names, name_count,
	                       analyzer_options, option_count, top, stdout);
}

int analyze_to_text(const char *who, const char *path, const char *plugin_path,
                    const char *const *names, size_t name_count, char *const *options,
                    size_t option_count, size_t top, FILE *out)
{
	struct analysis analysis;
	int status = analyze(&analysis, who, path, plugin_path, names, name_count, options,
	                     option_count);
	struct visible visible;
	visible_begin(&visible, out);
	for (size_t i = 0; status == 0 && i < analysis.result_count; i++) {
		if (i > 0)
			fputc('\n', visible.stream);
		if (results_print_text(plugin_host(), analysis.capture, analysis.results[i], top,
		                       visible.stream) < 0)
			status = 1;
	}
	if (visible_finish(&visible) < 0 || analysis.failed)
		status = 1;
	analysis_finish(&analysis);
	return status;
}

/* ---- memscope report --format -------------------------------------------- */

int export_capture(const char *path, const char *format, const char *output,
                   const char *plugin_path, const char *const *names, size_t name_count,
                   char *const *options, size_t option_count)
{
	struct analysis analysis;
	int status = analyze(&analysis, "memscope report", path, plugin_path, names, name_count,
	                     options, option_count);
	const memscope_exporter *exporter =
	    status == 0 ? plugin_registry_exporter(analysis.registry, format) : NULL;
	if (status == 0 && exporter == NULL) {
		fprintf(stderr, "memscope report: no exporter '%s'; 'memscope plugins' lists the "
		        "installed ones\n", format);
		status = EXIT_USAGE;
	}
	FILE *out = stdout;
	/* Written aside and put in place once whole: a failing exporter
	 * leaves the file that was there. */
	struct output_file file = { 0 };
	if (status == 0 && output != NULL) {
		int error = output_file_open(&file, output);
		if (error < 0) {
			fprintf(stderr, "memscope report: cannot write %s: %s; choose another with -o\n",
			        output, strerror(-error));
			status = 1;
		}
		out = file.out;
	}
	if (status == 0) {
		int error = plugin_run_exporter(exporter, analysis.capture,
		                                (const struct memscope_results *const *)analysis.results,
		                                analysis.result_count, out);
		if (error < 0) {
			fprintf(stderr, "memscope report: the %s exporter failed: %s%s\n", format,
			        strerror(-error), output != NULL ? "; nothing was written" : "");
			status = 1;
		}
		int closed = output != NULL ? output_file_close(&file, status == 0)
		                            : (fflush(stdout) != 0 ? -errno : 0);
		if (closed < 0 && status == 0) {
			fprintf(stderr, "memscope report: cannot write %s: %s\n",
			        output ? output : "the standard output", strerror(-closed));
			status = 1;
		}
		if (status == 0 && output != NULL)
			fprintf(stderr, "memscope report: wrote %s%s\n", output,
			        analysis.failed ? " (without what the failed analyzer did not finish)" : "");
		/* Written, but not whole: said above, and in the exit status. */
		if (analysis.failed)
			status = 1;
	}
	analysis_finish(&analysis);
	return status;
}

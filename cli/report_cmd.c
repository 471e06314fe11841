/* report_cmd.c - `memscope report [options] FILE`: prints the report of a
 * capture (core/report.h) on standard output.
 *
 * Exit status: 0 when the report was printed, also for a capture cut short
 * (the report then carries a warning, repeated on stderr); 1 when the
 * capture cannot be read or the report cannot be written; 2 for a usage
 * error, as for every memscope command.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output_file.h"
#include "visible.h"
#include "progress.h"
#include "report.h"

enum { EXIT_USAGE = 2 };

enum {
	OPTION_TOP = 256,
	OPTION_DEPTH,
	OPTION_FORMAT,
	OPTION_ANALYZER,
	OPTION_PLUGIN_PATH,
	OPTION_OPTION,
	OPTION_SPLIT,
	MAX_NAMES = 32,
};

static const struct option long_options[] = {
	{ "top", required_argument, NULL, OPTION_TOP },
	{ "depth", required_argument, NULL, OPTION_DEPTH },
	{ "format", required_argument, NULL, OPTION_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "analyzer", required_argument, NULL, OPTION_ANALYZER },
	{ "plugin-path", required_argument, NULL, OPTION_PLUGIN_PATH },
	{ "option", required_argument, NULL, OPTION_OPTION },
	{ "split", required_argument, NULL, OPTION_SPLIT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void print_usage(FILE *out)
{
	fprintf(out,
	        "Usage: memscope report [options] FILE\n"
	        "\n"
	        "Prints what a capture (a .memscope file written by `memscope run`) shows:\n"
	        "totals, the peak and the stacks that held it, the blocks never freed grouped\n"
	        "by stack with the function that leaked them, and the top allocation sites\n"
	        "by calls and by bytes.\n"
	        "\n"
	        "Options:\n"
	        "  --top N      places shown in each list: leak groups, peak stacks and\n"
	        "               allocation sites (default %d; 0 shows all)\n"
	        "  --depth N    frames shown per stack (default %d; 0 shows all)\n"
	        "  --format F   text (default), or an exporter plugin: json, svg, yours\n"
	        "               ('memscope plugins' lists them); the analyzers' results\n"
	        "               go with the capture's own numbers\n"
	        "  -o, --output FILE  write there instead of the standard output\n"
	        "  --analyzer NAME    run this analyzer plugin too (again for more; with\n"
	        "                     --format the default is leaks, hotspots, fragmentation)\n"
	        "  --option KEY=VALUE an option for the analyzers\n"
	        "  --plugin-path DIRS also look for plugins here (colon-separated)\n"
	        "  --split DIR  with --format json: write categorized files instead, in\n"
	        "               DIR/MemoryAnalysis/NAME/ (NAME: the capture's file name\n"
	        "               without extension): memory_analysis, performance,\n"
	        "               fragmentation, lifetime and threads .json\n"
	        "  -h, --help   show this help\n"
	        "\n"
	        "A capture cut short (the program was killed or crashed) is reported up to\n"
	        "the cut, with a warning.  Exit status: 0 when the report was printed, 1 when\n"
	        "the capture cannot be read, 2 for a usage error.\n",
	        REPORT_DEFAULT_TOP, REPORT_DEFAULT_DEPTH);
}

/* A count for --top or --depth: digits only, so "-1" is refused rather than
 * wrapped around by strtoul. */
static int parse_count(const char *option, const char *text, uint32_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value > UINT32_MAX) {
		fprintf(stderr, "memscope report: %s wants a whole number (0 for all), not '%s'\n",
		        option, text);
		return -EINVAL;
	}
	*out = (uint32_t)value;
	return 0;
}

static void explain_failure(const char *path, int error, const char *message)
{
	switch (error) {
	case -EPROTO:
		/* The reader's explanation already says "not a memscope capture". */
		fprintf(stderr, "memscope report: cannot read %s: %s\n", path,
		        message ? message : "not a memscope capture");
		break;
	case -EPROTONOSUPPORT:
		fprintf(stderr, "memscope report: cannot read %s: %s\n", path,
		        message ? message : "its format version is not one this memscope reads");
		break;
	case -ENOMEM:
		fprintf(stderr, "memscope report: %s: out of memory\n", path);
		break;
	default:
		fprintf(stderr, "memscope report: cannot open %s: %s\n", path, strerror(-error));
		break;
	}
}

int report_command(int argc, char **argv)
{
	struct report_options options;
	report_options_init(&options);
	const char *format = "text", *output = NULL, *plugin_path = NULL, *split = NULL;
	const char *analyzers[MAX_NAMES];
	char *analyzer_options[MAX_NAMES];
	size_t analyzer_count = 0, option_count = 0;

	/* The dispatcher may have used getopt already: 0 starts it afresh. */
	optind = 0;
	opterr = 0;
	for (;;) {
		int element = optind == 0 ? 1 : optind;
		int option = getopt_long(argc, argv, ":ho:", long_options, NULL);
		if (option == -1)
			break;
		switch (option) {
		case 'h':
			print_usage(stdout);
			return EXIT_SUCCESS;
		case OPTION_TOP:
			if (parse_count("--top", optarg, &options.top) < 0)
				return EXIT_USAGE;
			break;
		case OPTION_DEPTH:
			if (parse_count("--depth", optarg, &options.depth) < 0)
				return EXIT_USAGE;
			break;
		case OPTION_FORMAT:
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPTION_ANALYZER:
			if (analyzer_count < MAX_NAMES)
				analyzers[analyzer_count++] = optarg;
			break;
		case OPTION_OPTION:
			if (option_count < MAX_NAMES)
				analyzer_options[option_count++] = optarg;
			break;
		case OPTION_PLUGIN_PATH:
			plugin_path = optarg;
			break;
		case OPTION_SPLIT:
			split = optarg;
			break;
		case ':':
			fprintf(stderr, "memscope report: %s needs a value; see 'memscope report --help'\n",
			        element < argc ? argv[element] : "the option");
			return EXIT_USAGE;
		default:
			fprintf(stderr, "memscope report: unknown option '%s'; see 'memscope report --help'\n",
			        element < argc ? argv[element] : "?");
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s; see 'memscope report --help'\n",
		        optind >= argc ? "usage: memscope report [options] FILE"
		                       : "memscope report: one capture FILE at a time");
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (output != NULL && output_file_same(output, path)) {
		fprintf(stderr, "memscope report: -o %s is the capture being read: the report would "
		        "overwrite it; choose another file\n", output);
		return EXIT_USAGE;
	}
	if (split != NULL) {
		if (strcmp(format, "json") != 0) {
			fprintf(stderr, "memscope report: --split DIR writes JSON files: it goes with "
			        "--format json, not --format %s\n", format);
			return EXIT_USAGE;
		}
		if (output != NULL || analyzer_count > 0) {
			fprintf(stderr, "memscope report: --split DIR chooses its files and analyzers "
			        "itself; drop %s\n", output != NULL ? "-o" : "--analyzer");
			return EXIT_USAGE;
		}
		return export_split(path, split, plugin_path, analyzer_options, option_count);
	}
	if (strcmp(format, "text") != 0)
		return export_capture(path, format, output, plugin_path, analyzers, analyzer_count,
		                      analyzer_options, option_count);
	FILE *out = stdout;
	struct output_file file = { 0 };
	if (output != NULL) {
		int error = output_file_open(&file, output);
		if (error < 0) {
			fprintf(stderr, "memscope report: cannot write %s: %s; choose another with -o\n",
			        output, strerror(-error));
			return EXIT_FAILURE;
		}
		out = file.out;
	}

	struct report *report = NULL;
	const char *message = NULL;
	struct terminal_progress progress;
	terminal_progress_init(&progress, "memscope report");
	options.progress = &progress.replay;
	int error = report_build(path, &options, &report, &message);
	terminal_progress_finish(&progress);
	if (error < 0) {
		explain_failure(path, error, message);
		if (output != NULL)
			output_file_close(&file, false);
		return EXIT_FAILURE;
	}

	int status = EXIT_SUCCESS;
	struct visible visible;
	visible_begin(&visible, out);
	bool written = report_write_text(report, visible.stream) == 0;
	written = visible_finish(&visible) == 0 && written;
	/* Analyzers named: their results follow the report. */
	if (written && analyzer_count > 0) {
		fputc('\n', out);
		status = analyze_to_text("memscope report", path, plugin_path, analyzers, analyzer_count,
		                         analyzer_options, option_count, options.top, out);
	}
	int closed = 0;
	if (!written || fflush(out) != 0)
		closed = -errno;
	if (output != NULL) {
		int put = output_file_close(&file, written && closed == 0);
		closed = closed < 0 ? closed : put;
	}
	if (!written || closed < 0) {
		fprintf(stderr, "memscope report: cannot write the report: %s\n",
		        strerror(closed < 0 ? -closed : EIO));
		status = EXIT_FAILURE;
	} else if (report->warning_count > 0) {
		/* Said on stderr too: the report itself may be going to a file. */
		visible_begin(&visible, stderr);
		fprintf(visible.stream, "memscope report: warning: %s: %s\n", path,
		        report->warnings[0]);
		visible_finish(&visible);
	}
	report_destroy(report);
	return status;
}

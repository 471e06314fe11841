/* svg.c - the "svg" exporter: memory over time as a self-contained SVG 1.1
 * chart, 960x540, readable in any browser or viewer without memscope.
 *
 * Lines show the timeline samples: live heap (requested bytes), RSS,
 * jemalloc active and jemalloc resident.  When a "hotspots" analyzer ran
 * and reported a "sites" table, the first five rows of that table (the
 * analyzer's own ranking) are drawn under the lines as stacked areas: the
 * bytes each site had live at each sample, computed from the blocks.  A
 * block belongs to a site when it has the site's stack id, or a stack whose
 * frames print the same (function, file, line, module offset).
 *
 * No scripts, no external fonts or images; every text is XML-escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <memscope/plugin.h>

#include "exporter_common.h"

#define CHART_WIDTH 960
#define CHART_HEIGHT 540
#define PLOT_LEFT 84.0
#define PLOT_RIGHT 724.0
#define PLOT_TOP 64.0
#define PLOT_BOTTOM 470.0
#define LEGEND_LEFT 748.0
#define LEGEND_ROW 20.0

/* Sites drawn as areas, and the characters of a site's name in the legend. */
#define TOP_SITES 5
#define SITE_NAME_MAX 26
/* Characters of the program's name in the visible title. */
#define TITLE_PROGRAM_MAX 56
/* Axis ticks aimed at; the scale rounds to 1, 2 or 5 times a power of ten. */
#define TICKS_WANTED 5
/* Horizontal resolution of the polylines: points per pixel column at most
 * two (the column's lowest and highest), so an hour of 10 ms samples stays
 * a small file. */
#define PLOT_COLUMNS ((int)(PLOT_RIGHT - PLOT_LEFT))

/* ---- text --------------------------------------------------------------- */

/* Characters of text, a byte that is not UTF-8 counting as one. */
static size_t character_count(const unsigned char *text)
{
	size_t count = 0;
	while (*text) {
		size_t length = exporter_utf8_sequence_length(text);
		text += length ? length : 1;
		count++;
	}
	return count;
}

/* Text as XML character data or attribute value.  What XML 1.0 cannot
 * hold at all (control characters, U+FFFE, U+FFFF, bytes that are not
 * UTF-8) becomes U+FFFD.  At most max_characters characters are written
 * (0: no limit); a longer text ends in an ellipsis. */
static void write_xml_text(FILE *out, const char *text, size_t max_characters)
{
	if (!text)
		return;
	const unsigned char *cursor = (const unsigned char *)text;
	size_t keep = SIZE_MAX;
	if (max_characters > 0 && character_count(cursor) > max_characters)
		keep = max_characters - 1;
	for (size_t written = 0; *cursor; written++) {
		if (written == keep) {
			fputs("\xe2\x80\xa6", out);
			return;
		}
		unsigned char c = *cursor;
		switch (c) {
		case '&': fputs("&amp;", out); cursor++; continue;
		case '<': fputs("&lt;", out); cursor++; continue;
		case '>': fputs("&gt;", out); cursor++; continue;
		case '"': fputs("&quot;", out); cursor++; continue;
		case '\'': fputs("&apos;", out); cursor++; continue;
		case '\t': case '\n': case '\r': fputc(' ', out); cursor++; continue;
		default: break;
		}
		size_t length = exporter_utf8_sequence_length(cursor);
		bool forbidden = c < 0x20 || length == 0 ||
		                 (length == 3 && c == 0xef && cursor[1] == 0xbf && cursor[2] >= 0xbe);
		if (forbidden) {
			fputs("&#xFFFD;", out);
			cursor += length ? length : 1;
		} else {
			fwrite(cursor, 1, length, out);
			cursor += length;
		}
	}
}

struct short_text {
	char text[48];
};

/* "512 B", "1.5 KiB", "12.3 MiB". */
static struct short_text bytes_text(uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	struct short_text result;
	if (bytes < 1024) {
		snprintf(result.text, sizeof(result.text), "%" PRIu64 " B", bytes);
		return result;
	}
	double scaled = (double)bytes / 1024.0;
	size_t unit = 0;
	while (scaled >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		scaled /= 1024.0;
		unit++;
	}
	snprintf(result.text, sizeof(result.text), "%.1f %s", scaled, units[unit]);
	return result;
}

/* "850 µs", "12.5 ms", "3.25 s". */
static struct short_text time_text(uint64_t ns)
{
	struct short_text result;
	if (ns < 1000000)
		snprintf(result.text, sizeof(result.text), "%.0f \xc2\xb5s", (double)ns / 1e3);
	else if (ns < UINT64_C(1000000000))
		snprintf(result.text, sizeof(result.text), "%.1f ms", (double)ns / 1e6);
	else
		snprintf(result.text, sizeof(result.text), "%.2f s", (double)ns / 1e9);
	return result;
}

/* ---- scales ------------------------------------------------------------- */

struct axis {
	double unit;            /* one label unit in the data's unit */
	const char *unit_name;
	double step;            /* between ticks, in label units */
	int ticks;              /* above zero; the axis ends at ticks * step */
	int decimals;           /* of the tick labels */
};

/* Ticks at multiples of 1, 2 or 5 times a power of ten, about
 * TICKS_WANTED of them, covering maximum (in label units). */
static void axis_fit(struct axis *axis, double maximum, double min_step)
{
	if (!(maximum > 0))
		maximum = 1;
	double raw = maximum / TICKS_WANTED;
	double magnitude = pow(10.0, floor(log10(raw)));
	double normalized = raw / magnitude;
	double step = normalized <= 1.0 ? 1.0 : normalized <= 2.0 ? 2.0 : normalized <= 5.0 ? 5.0 : 10.0;
	step *= magnitude;
	if (step < min_step)
		step = min_step;
	axis->step = step;
	axis->ticks = (int)ceil(maximum / step - 1e-9);
	if (axis->ticks < 1)
		axis->ticks = 1;
	axis->decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
}

static void bytes_axis(struct axis *axis, uint64_t maximum)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t unit = 0;
	double scale = 1.0;
	while (unit + 1 < sizeof(names) / sizeof(names[0]) && (double)maximum >= scale * 1024.0) {
		scale *= 1024.0;
		unit++;
	}
	axis->unit = scale;
	axis->unit_name = names[unit];
	/* Bytes do not split. */
	axis_fit(axis, (double)maximum / scale, unit == 0 ? 1.0 : 0.0);
}

static void time_axis(struct axis *axis, uint64_t maximum_ns)
{
	if (maximum_ns < UINT64_C(2000000000)) {
		axis->unit = 1e6;
		axis->unit_name = "ms";
	} else {
		axis->unit = 1e9;
		axis->unit_name = "s";
	}
	axis_fit(axis, (double)maximum_ns / axis->unit, 0.0);
}

static double axis_top(const struct axis *axis)
{
	return axis->ticks * axis->step * axis->unit;
}

/* ---- the data ----------------------------------------------------------- */

enum series { SERIES_HEAP, SERIES_RSS, SERIES_ACTIVE, SERIES_RESIDENT, SERIES_COUNT };

static const struct series_style {
	const char *label;
	const char *color;
	const char *width;
	const char *dash;       /* NULL: solid */
} series_styles[SERIES_COUNT] = {
	[SERIES_HEAP] = { "live heap (requested)", "#1f4e9c", "2.2", NULL },
	[SERIES_RSS] = { "RSS", "#c62828", "1.6", NULL },
	[SERIES_ACTIVE] = { "jemalloc active", "#2e7d32", "1.6", "7 4" },
	[SERIES_RESIDENT] = { "jemalloc resident", "#ef6c00", "1.6", "2 3" },
};

static uint64_t series_value(const memscope_sample *point, enum series series)
{
	switch (series) {
	case SERIES_HEAP: return point->heap_live_bytes;
	case SERIES_RSS: return point->rss_bytes;
	case SERIES_ACTIVE: return point->jemalloc_active;
	case SERIES_RESIDENT: return point->jemalloc_resident;
	case SERIES_COUNT: break;
	}
	return 0;
}

static const char *const site_colors[TOP_SITES] = {
	"#9ecae1", "#fdd0a2", "#a1d99b", "#fcbba1", "#dadaeb",
};
static const char *const site_edges[TOP_SITES] = {
	"#6baed6", "#fdae6b", "#74c476", "#fc9272", "#bcbddc",
};

struct site {
	uint32_t stack;
	const memscope_frame *frames;
	size_t frame_count;
	uint64_t *live;         /* per sample; one more slot while summing */
};

/* stack id -> site index (or -1), so each stack is compared once. */
struct site_slot {
	uint32_t stack;
	int32_t site;
	bool used;
};

struct site_map {
	struct site_slot *slots;
	size_t capacity;        /* a power of two */
	size_t used;
};

struct chart {
	const memscope_host *host;
	memscope_capture *capture;
	FILE *out;
	const memscope_summary *summary;
	struct exporter_timeline samples; /* the peak a point of its own (exporter_timeline_collect) */
	struct site sites[TOP_SITES];
	size_t site_count;
	struct site_map map;
	struct axis x_axis, y_axis;
};

static bool same_text(const char *left, const char *right)
{
	if (!left || !right)
		return left == right;
	return strcmp(left, right) == 0;
}

static bool same_frames(const memscope_frame *left, size_t left_count,
                        const memscope_frame *right, size_t right_count)
{
	if (left_count != right_count || left_count == 0)
		return false;
	for (size_t i = 0; i < left_count; i++) {
		const memscope_frame *a = &left[i], *b = &right[i];
		if (!same_text(a->function, b->function) || !same_text(a->file, b->file) ||
		    a->line != b->line || a->inlined != b->inlined)
			return false;
		/* Without symbols the place in the module is all there is. */
		if (!a->function && !a->file &&
		    (!same_text(a->module, b->module) || a->module_offset != b->module_offset))
			return false;
	}
	return true;
}

static int32_t site_of_stack(struct chart *chart, uint32_t stack)
{
	for (size_t i = 0; i < chart->site_count; i++)
		if (chart->sites[i].stack == stack)
			return (int32_t)i;
	const memscope_frame *frames;
	size_t count = exporter_stack_frames(chart->host, chart->capture, stack, &frames);
	if (count == 0)
		return -1;
	for (size_t i = 0; i < chart->site_count; i++)
		if (same_frames(frames, count, chart->sites[i].frames, chart->sites[i].frame_count))
			return (int32_t)i;
	return -1;
}

static uint32_t hash_stack(uint32_t stack)
{
	/* A multiplicative hash: stack ids are small and dense. */
	return stack * UINT32_C(2654435761);
}

static int site_map_grow(struct site_map *map)
{
	size_t capacity = map->capacity ? map->capacity * 2 : 1024;
	struct site_slot *slots = calloc(capacity, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < map->capacity; i++) {
		if (!map->slots[i].used)
			continue;
		size_t index = hash_stack(map->slots[i].stack) & (capacity - 1);
		while (slots[index].used)
			index = (index + 1) & (capacity - 1);
		slots[index] = map->slots[i];
	}
	free(map->slots);
	map->slots = slots;
	map->capacity = capacity;
	return 0;
}

/* The site index of a stack, -1 for none, or a negative errno below -1. */
static int site_lookup(struct chart *chart, uint32_t stack, int32_t *site)
{
	struct site_map *map = &chart->map;
	if (map->used * 2 >= map->capacity) {
		int error = site_map_grow(map);
		if (error < 0)
			return error;
	}
	size_t index = hash_stack(stack) & (map->capacity - 1);
	while (map->slots[index].used) {
		if (map->slots[index].stack == stack) {
			*site = map->slots[index].site;
			return 0;
		}
		index = (index + 1) & (map->capacity - 1);
	}
	*site = site_of_stack(chart, stack);
	map->slots[index] = (struct site_slot){ .stack = stack, .site = *site, .used = true };
	map->used++;
	return 0;
}

/* First sample at or after time_ns (count if none). */
static size_t first_sample_from(const struct exporter_timeline *samples, uint64_t time_ns)
{
	size_t low = 0, high = samples->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (samples->samples[middle].time_ns < time_ns)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* A block is live at the samples taken from its allocation up to (not
 * including) its free; a block never freed stays live to the end.  Sizes
 * are added where its life starts and taken back where it ends, then
 * summed along the samples. */
static int add_block(void *context, const memscope_block *block)
{
	struct chart *chart = context;
	int32_t site = -1;
	int error = site_lookup(chart, block->stack, &site);
	if (error < 0)
		return error;
	if (site < 0)
		return 0;
	size_t from = first_sample_from(&chart->samples, block->allocated_ns);
	size_t until = block->freed ? first_sample_from(&chart->samples, block->freed_ns)
	                            : chart->samples.count;
	/* At the peak's point, the events' order says who was live, which
	 * times cannot when the block came or went in the peak's tick. */
	size_t peak = chart->samples.peak;
	bool by_time = from <= peak && peak < until;
	bool at_peak = peak < chart->samples.count &&
	               memscope_block_live_at_peak(chart->summary, block);
	if (from >= until && !at_peak)
		return 0;
	/* A sampled block stands for weight blocks; rounded per block, its
	 * bytes still leave exactly what they added. */
	uint64_t bytes = memscope_weighted_count(memscope_block_weight(block) * (double)block->size);
	uint64_t *live = chart->sites[site].live;
	if (from < until) {
		live[from] += bytes;
		live[until] -= bytes; /* unsigned: the sums come out whole */
	}
	if (at_peak != by_time) {
		live[peak] += at_peak ? bytes : -bytes;
		live[peak + 1] -= at_peak ? bytes : -bytes;
	}
	return 0;
}

static const memscope_table *find_sites_table(const memscope_host *host,
                                              const memscope_results *const *results,
                                              size_t count)
{
	for (size_t r = 0; r < count; r++) {
		if (!results[r] || !same_text(host->results_analyzer(results[r]), "hotspots"))
			continue;
		size_t tables = host->table_count(results[r]);
		for (size_t t = 0; t < tables; t++) {
			const memscope_table *table = host->table_at(results[r], t);
			if (table && same_text(host->table_name(table), "sites"))
				return table;
		}
	}
	return NULL;
}

static int compute_sites(struct chart *chart, const memscope_results *const *results,
                         size_t count)
{
	const memscope_host *host = chart->host;
	if (chart->samples.count == 0 || !host->for_each_block)
		return 0;
	const memscope_table *table = find_sites_table(host, results, count);
	if (!table)
		return 0;
	size_t column_count = 0;
	const memscope_column *columns = host->table_columns(table, &column_count);
	size_t stack_column = column_count;
	for (size_t i = 0; columns && i < column_count; i++) {
		if (columns[i].type == MEMSCOPE_COLUMN_STACK) {
			stack_column = i;
			break;
		}
	}
	if (stack_column == column_count)
		return 0;

	size_t rows = host->table_row_count(table);
	for (size_t row = 0; row < rows && chart->site_count < TOP_SITES; row++) {
		const memscope_value *values = host->table_row_at(table, row);
		if (!values)
			continue;
		uint32_t stack = values[stack_column].stack;
		bool seen = false;
		for (size_t i = 0; i < chart->site_count; i++)
			seen = seen || chart->sites[i].stack == stack;
		if (seen)
			continue;
		struct site *site = &chart->sites[chart->site_count];
		site->stack = stack;
		site->frame_count = exporter_stack_frames(host, chart->capture, stack, &site->frames);
		site->live = calloc(chart->samples.count + 1, sizeof(*site->live));
		if (!site->live)
			return -ENOMEM;
		chart->site_count++;
	}
	if (chart->site_count == 0)
		return 0;

	int error = host->for_each_block(chart->capture, add_block, chart);
	if (error < 0)
		return error;
	for (size_t i = 0; i < chart->site_count; i++) {
		uint64_t *live = chart->sites[i].live;
		for (size_t s = 1; s < chart->samples.count; s++)
			live[s] += live[s - 1];
	}
	return 0;
}

/* Live bytes of sites 0..through at sample s: the top edge of area
 * `through` in the stack. */
static uint64_t stacked(const struct chart *chart, size_t through, size_t sample)
{
	uint64_t total = 0;
	for (size_t i = 0; i <= through; i++)
		total += chart->sites[i].live[sample];
	return total;
}

/* ---- drawing ------------------------------------------------------------ */

static double x_of(const struct chart *chart, uint64_t time_ns)
{
	return PLOT_LEFT + (double)time_ns / axis_top(&chart->x_axis) * (PLOT_RIGHT - PLOT_LEFT);
}

static double y_of(const struct chart *chart, uint64_t bytes)
{
	return PLOT_BOTTOM - (double)bytes / axis_top(&chart->y_axis) * (PLOT_BOTTOM - PLOT_TOP);
}

static int column_of(const struct chart *chart, uint64_t time_ns)
{
	return (int)((x_of(chart, time_ns) - PLOT_LEFT) * PLOT_COLUMNS / (PLOT_RIGHT - PLOT_LEFT));
}

static void fit_axes(struct chart *chart)
{
	uint64_t last_time = chart->summary->duration_ns;
	uint64_t highest = chart->summary->peak_bytes;
	for (size_t s = 0; s < chart->samples.count; s++) {
		const memscope_sample *point = &chart->samples.samples[s];
		if (point->time_ns > last_time)
			last_time = point->time_ns;
		for (int series = 0; series < SERIES_COUNT; series++)
			if (series_value(point, series) > highest)
				highest = series_value(point, series);
		if (chart->site_count > 0 && stacked(chart, chart->site_count - 1, s) > highest)
			highest = stacked(chart, chart->site_count - 1, s);
	}
	time_axis(&chart->x_axis, last_time);
	bytes_axis(&chart->y_axis, highest);
}

static void write_point(const struct chart *chart, uint64_t time_ns, uint64_t bytes)
{
	fprintf(chart->out, " %.1f,%.1f", x_of(chart, time_ns), y_of(chart, bytes));
}

/* One pixel column's worth of a line: its lowest and highest point, in the
 * order they came, so peaks survive thinning. */
struct column_extremes {
	int column;
	bool any;
	uint64_t low, high;
	uint64_t low_time, high_time;
};

static void flush_column(const struct chart *chart, struct column_extremes *extremes)
{
	if (!extremes->any)
		return;
	if (extremes->low == extremes->high) {
		write_point(chart, extremes->low_time, extremes->low);
	} else if (extremes->low_time <= extremes->high_time) {
		write_point(chart, extremes->low_time, extremes->low);
		write_point(chart, extremes->high_time, extremes->high);
	} else {
		write_point(chart, extremes->high_time, extremes->high);
		write_point(chart, extremes->low_time, extremes->low);
	}
	extremes->any = false;
}

static void draw_series(const struct chart *chart, enum series series)
{
	const struct series_style *style = &series_styles[series];
	fprintf(chart->out, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"",
	        style->color, style->width);
	if (style->dash)
		fprintf(chart->out, " stroke-dasharray=\"%s\"", style->dash);
	fputs(" stroke-linejoin=\"round\" points=\"", chart->out);
	struct column_extremes extremes = { .any = false };
	for (size_t s = 0; s < chart->samples.count; s++) {
		const memscope_sample *point = &chart->samples.samples[s];
		uint64_t value = series_value(point, series);
		int column = column_of(chart, point->time_ns);
		if (extremes.any && column != extremes.column)
			flush_column(chart, &extremes);
		if (!extremes.any) {
			extremes = (struct column_extremes){ .column = column, .any = true,
				                             .low = value, .high = value,
				                             .low_time = point->time_ns,
				                             .high_time = point->time_ns };
			continue;
		}
		if (value < extremes.low) {
			extremes.low = value;
			extremes.low_time = point->time_ns;
		}
		if (value > extremes.high) {
			extremes.high = value;
			extremes.high_time = point->time_ns;
		}
	}
	flush_column(chart, &extremes);
	fputs("\"><title>", chart->out);
	write_xml_text(chart->out, style->label, 0);
	fputs("</title></polyline>\n", chart->out);
}

/* The samples an area is drawn through: per pixel column, the one where
 * all sites together hold the most, so the stack's peaks show. */
static size_t area_samples(const struct chart *chart, size_t *chosen)
{
	size_t count = 0;
	int column = -1;
	uint64_t best = 0;
	size_t top = chart->site_count - 1;
	for (size_t s = 0; s < chart->samples.count; s++) {
		int this_column = column_of(chart, chart->samples.samples[s].time_ns);
		uint64_t total = stacked(chart, top, s);
		if (count == 0 || this_column != column) {
			chosen[count++] = s;
			column = this_column;
			best = total;
		} else if (total > best) {
			chosen[count - 1] = s;
			best = total;
		}
	}
	return count;
}

static struct short_text site_name(const struct site *site)
{
	struct short_text result;
	if (site->frame_count == 0) {
		snprintf(result.text, sizeof(result.text), "stack %" PRIu32, site->stack);
		return result;
	}
	const memscope_frame *frame = &site->frames[0];
	if (frame->function) {
		snprintf(result.text, sizeof(result.text), "%s", frame->function);
	} else if (frame->module) {
		const char *slash = strrchr(frame->module, '/');
		snprintf(result.text, sizeof(result.text), "%s+0x%" PRIx64,
		         slash ? slash + 1 : frame->module, frame->module_offset);
	} else {
		snprintf(result.text, sizeof(result.text), "stack %" PRIu32, site->stack);
	}
	return result;
}

static int draw_sites(const struct chart *chart)
{
	if (chart->site_count == 0)
		return 0;
	size_t *chosen = malloc(chart->samples.count * sizeof(*chosen));
	if (!chosen)
		return -ENOMEM;
	size_t count = area_samples(chart, chosen);
	FILE *out = chart->out;
	fputs("<g class=\"sites\" stroke-width=\"0.8\">\n", out);
	for (size_t i = 0; i < chart->site_count; i++) {
		fprintf(out, "<polygon fill=\"%s\" stroke=\"%s\" points=\"", site_colors[i],
		        site_edges[i]);
		for (size_t k = 0; k < count; k++) {
			const memscope_sample *point = &chart->samples.samples[chosen[k]];
			write_point(chart, point->time_ns, stacked(chart, i, chosen[k]));
		}
		for (size_t k = count; k-- > 0;) {
			const memscope_sample *point = &chart->samples.samples[chosen[k]];
			write_point(chart, point->time_ns, i == 0 ? 0 : stacked(chart, i - 1, chosen[k]));
		}
		fputs("\"><title>", out);
		write_xml_text(out, site_name(&chart->sites[i]).text, 0);
		fputs("</title></polygon>\n", out);
	}
	fputs("</g>\n", out);
	free(chosen);
	return 0;
}

static void write_tick_label(FILE *out, const struct axis *axis, int tick)
{
	fprintf(out, "%.*f %s", axis->decimals, tick * axis->step, axis->unit_name);
}

static void draw_axes(const struct chart *chart)
{
	FILE *out = chart->out;
	const struct axis *x_axis = &chart->x_axis, *y_axis = &chart->y_axis;

	fputs("<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">\n", out);
	for (int tick = 1; tick <= y_axis->ticks; tick++) {
		double y = PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * tick / y_axis->ticks;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PLOT_LEFT, y,
		        PLOT_RIGHT, y);
	}
	for (int tick = 1; tick <= x_axis->ticks; tick++) {
		double x = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * tick / x_axis->ticks;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, PLOT_TOP, x,
		        PLOT_BOTTOM);
	}
	fputs("</g>\n", out);

	fputs("<g class=\"axes\" stroke=\"#444444\" stroke-width=\"1\">\n", out);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PLOT_LEFT, PLOT_BOTTOM,
	        PLOT_RIGHT, PLOT_BOTTOM);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PLOT_LEFT, PLOT_TOP,
	        PLOT_LEFT, PLOT_BOTTOM);
	for (int tick = 0; tick <= y_axis->ticks; tick++) {
		double y = PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * tick / y_axis->ticks;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PLOT_LEFT - 5,
		        y, PLOT_LEFT, y);
	}
	for (int tick = 0; tick <= x_axis->ticks; tick++) {
		double x = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * tick / x_axis->ticks;
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, PLOT_BOTTOM,
		        x, PLOT_BOTTOM + 5);
	}
	fputs("</g>\n", out);

	fputs("<g class=\"tick-labels\" font-size=\"11\" fill=\"#333333\">\n", out);
	for (int tick = 0; tick <= y_axis->ticks; tick++) {
		double y = PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * tick / y_axis->ticks;
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", PLOT_LEFT - 8, y + 4);
		write_tick_label(out, y_axis, tick);
		fputs("</text>\n", out);
	}
	for (int tick = 0; tick <= x_axis->ticks; tick++) {
		double x = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * tick / x_axis->ticks;
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, PLOT_BOTTOM + 19);
		write_tick_label(out, x_axis, tick);
		fputs("</text>\n", out);
	}
	fputs("</g>\n", out);

	fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
	             "font-size=\"12\" fill=\"#333333\">time since start</text>\n",
	        (PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_BOTTOM + 42);
	fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
	             "font-size=\"12\" fill=\"#333333\" transform=\"rotate(-90 %.1f %.1f)\">memory"
	             "</text>\n",
	        18.0, (PLOT_TOP + PLOT_BOTTOM) / 2, 18.0, (PLOT_TOP + PLOT_BOTTOM) / 2);
}

static void draw_peak(const struct chart *chart)
{
	const memscope_summary *summary = chart->summary;
	if (summary->peak_bytes == 0 || chart->samples.count == 0)
		return;
	FILE *out = chart->out;
	double x = x_of(chart, summary->peak_time_ns), y = y_of(chart, summary->peak_bytes);
	bool label_left = x > PLOT_RIGHT - 120;
	fprintf(out, "<g class=\"peak\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
	             "stroke=\"#ffffff\" stroke-width=\"1.5\"/>",
	        x, y, series_styles[SERIES_HEAP].color);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"11\" "
	             "fill=\"%s\">peak %s</text></g>\n",
	        label_left ? x - 8 : x + 8, y < PLOT_TOP + 14 ? y + 14 : y - 6,
	        label_left ? "end" : "start", series_styles[SERIES_HEAP].color,
	        bytes_text(summary->peak_bytes).text);
}

static void draw_legend(const struct chart *chart)
{
	FILE *out = chart->out;
	double y = PLOT_TOP + 4;
	fputs("<g class=\"legend\" font-size=\"12\" fill=\"#222222\">\n", out);
	for (int series = 0; series < SERIES_COUNT; series++) {
		const struct series_style *style = &series_styles[series];
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		             "stroke-width=\"%s\"",
		        LEGEND_LEFT, y, LEGEND_LEFT + 24, y, style->color, style->width);
		if (style->dash)
			fprintf(out, " stroke-dasharray=\"%s\"", style->dash);
		fprintf(out, "/><text x=\"%.1f\" y=\"%.1f\">", LEGEND_LEFT + 32, y + 4);
		write_xml_text(out, style->label, 0);
		fputs("</text>\n", out);
		y += LEGEND_ROW;
	}
	if (chart->site_count > 0) {
		y += LEGEND_ROW / 2;
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">top sites, live bytes"
		             "</text>\n",
		        LEGEND_LEFT, y + 4);
		y += LEGEND_ROW;
		for (size_t i = 0; i < chart->site_count; i++) {
			const struct site *site = &chart->sites[i];
			fprintf(out, "<g class=\"site\"><rect x=\"%.1f\" y=\"%.1f\" width=\"24\" "
			             "height=\"12\" fill=\"%s\" stroke=\"%s\"/>",
			        LEGEND_LEFT, y - 6, site_colors[i], site_edges[i]);
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", LEGEND_LEFT + 32, y + 4);
			write_xml_text(out, site_name(site).text, SITE_NAME_MAX);
			fputs("</text><title>", out);
			if (site->frame_count > 0 && site->frames[0].file) {
				write_xml_text(out, site_name(site).text, 0);
				fputs(" (", out);
				write_xml_text(out, site->frames[0].file, 0);
				fprintf(out, ":%" PRIu32 ")", site->frames[0].line);
			} else {
				write_xml_text(out, site_name(site).text, 0);
			}
			fputs("</title></g>\n", out);
			y += LEGEND_ROW;
		}
	}
	fputs("</g>\n", out);
}

static const char *program_name(const memscope_summary *summary)
{
	if (summary->program && summary->program[0])
		return summary->program;
	if (summary->path && summary->path[0])
		return summary->path;
	return "unknown program";
}

/* The visible title shortens a long program name (max_characters, 0 for
 * no limit) so it stays inside the 960 pixels. */
static void write_title_text(const struct chart *chart, size_t max_characters)
{
	FILE *out = chart->out;
	bool estimated = memscope_summary_estimated(chart->summary);
	fputs("memscope: ", out);
	write_xml_text(out, program_name(chart->summary), max_characters);
	fprintf(out, " \xe2\x80\x94 peak %s%s at %s", estimated ? "~" : "",
	        bytes_text(chart->summary->peak_bytes).text,
	        time_text(chart->summary->peak_time_ns).text);
	if (estimated)
		fputs(" (estimated: sampled)", out);
}

static int draw_chart(struct chart *chart, const memscope_results *const *results, size_t count)
{
	FILE *out = chart->out;
	/* The live heap's line passes through the peak the title gives. */
	int error = exporter_timeline_collect(&chart->samples, chart->host, chart->capture,
	                                      chart->summary);
	if (error < 0)
		return error;
	error = compute_sites(chart, results, count);
	if (error < 0)
		return error;
	fit_axes(chart);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
	             "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, "
	             "Arial, sans-serif\">\n",
	        CHART_WIDTH, CHART_HEIGHT, CHART_WIDTH, CHART_HEIGHT);
	fputs("<title>", out);
	write_title_text(chart, 0);
	fputs("</title>\n<desc>Memory over time recorded by memscope: live heap, RSS, jemalloc "
	      "active and resident", out);
	if (chart->site_count > 0)
		fputs(", and the live bytes of the top allocation sites", out);
	fputs(".</desc>\n", out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
	        CHART_WIDTH, CHART_HEIGHT);

	fputs("<text class=\"title\" x=\"20\" y=\"30\" font-size=\"18\" font-weight=\"bold\" "
	      "fill=\"#111111\">", out);
	write_title_text(chart, TITLE_PROGRAM_MAX);
	fputs("</text>\n", out);
	const char *mark = memscope_summary_estimated(chart->summary) ? "~" : "";
	fprintf(out, "<text class=\"subtitle\" x=\"20\" y=\"50\" font-size=\"12\" fill=\"#555555\">"
	             "%s%" PRIu64 " allocations, %s%s requested, over %s",
	        mark, chart->summary->allocations, mark,
	        bytes_text(chart->summary->allocated_bytes).text,
	        time_text(chart->summary->duration_ns).text);
	if (chart->summary->backend && chart->summary->backend[0]) {
		fputs(" (backend ", out);
		write_xml_text(out, chart->summary->backend, 0);
		fputs(")", out);
	}
	if (chart->summary->truncated)
		fputs("; the capture is cut short", out);
	if (mark[0])
		fprintf(out, "; sampled, one point every %s allocated on average: figures are "
		             "estimates",
		        bytes_text(memscope_summary_sample_interval(chart->summary)).text);
	fputs("</text>\n", out);

	draw_axes(chart);
	if (chart->samples.count == 0) {
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" "
		             "fill=\"#777777\">no timeline samples in this capture</text>\n",
		        (PLOT_LEFT + PLOT_RIGHT) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2);
	} else {
		error = draw_sites(chart);
		if (error < 0)
			return error;
		fputs("<g class=\"lines\">\n", out);
		/* The live heap last, on top: it is the one people read first. */
		for (int series = SERIES_COUNT - 1; series >= 0; series--)
			draw_series(chart, series);
		fputs("</g>\n", out);
		draw_peak(chart);
	}
	draw_legend(chart);
	fputs("</svg>\n", out);
	return 0;
}

static bool host_usable(const memscope_host *host)
{
	return host && host->version >= 1 && host->summary && host->for_each_sample &&
	       host->stack_frames && host->table_count && host->table_at && host->table_name &&
	       host->table_columns && host->table_row_count && host->table_row_at &&
	       host->results_analyzer;
}

static int write_svg(const memscope_host *host, memscope_capture *capture,
                     const memscope_results *const *results, size_t count, FILE *out)
{
	if (!out || (count > 0 && !results))
		return -EINVAL;
	if (!host_usable(host))
		return -ENOTSUP;
	const memscope_summary *summary = exporter_summary(host, capture);

	/* Coordinates in the C locale whatever the host set: "1.5", never "1,5". */
	struct exporter_locale locale;
	if (exporter_locale_enter(&locale) < 0)
		return -ENOMEM;

	struct chart chart = {
		.host = host,
		.capture = capture,
		.out = out,
		.summary = summary,
	};
	int error = draw_chart(&chart, results, count);

	exporter_locale_leave(&locale);
	for (size_t i = 0; i < chart.site_count; i++)
		free(chart.sites[i].live);
	free(chart.map.slots);
	exporter_timeline_finish(&chart.samples);
	return exporter_finish_output(out, error);
}

static const memscope_exporter svg_exporter = {
	.version = MEMSCOPE_EXPORTER_VERSION,
	.name = "svg",
	.extension = "svg",
	.description = "memory over time as an SVG chart: live heap, RSS, jemalloc, top sites",
	.write = write_svg,
};

static const memscope_exporter *const exporters[] = { &svg_exporter, NULL };

MEMSCOPE_PLUGIN_DESCRIBE("svg", "1.0", NULL, exporters)

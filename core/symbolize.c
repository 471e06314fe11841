/* symbolize.c - offline symbolization of recorded addresses with libdwfl.
 *
 * Contract (symbolize.h): modules are added from the capture's MODULE
 * records; an ip resolves to the frames of the module that covers it (the
 * latest loaded, when several were loaded at that address over time), read
 * from the module's file on disk: function names from DWARF, else from the
 * ELF symbol tables; file:line from the line table; inlined calls as one
 * frame each, innermost first.  Every result is cached per ip and every
 * string is interned, so both live until symbolizer_destroy.
 *
 * Each module gets a Dwfl session of its own, opened the first time one of
 * its addresses is looked up: a capture may hold modules that were loaded
 * one after another at the same address, which one session cannot hold, and
 * a file that no frame needs is never opened.  So a module's warnings (not
 * found, changed since the capture) appear once an address in it is looked
 * up.  Separate debug files are looked for on this machine only: never
 * through debuginfod, whatever the environment says.
 */
#include "symbolize.h"

#include <dwarf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dw_functions.h"

/* Deeper inline chains than this are cut at their outer end. */
#define MAX_INLINE_DEPTH 64
/* Scopes nested deeper than this (blocks, inlined calls, namespaces) are
 * not looked into. */
#define MAX_SCOPE_DEPTH 128
#define INITIAL_CACHE_CAPACITY 1024
#define INITIAL_STRING_CAPACITY 256

/* A function (or assembly label) from a module's symbol table. */
struct function_symbol {
	uint64_t address;             /* run-time */
	uint64_t size;                /* 0 for a label */
	const char *name;             /* the module's own string table */
	int rank;                     /* among names of one address: global > weak > local */
};

/* DIEs by the code they cover: the functions of one DWARF unit, so that
 * finding the function around an address is a binary search, not a walk
 * of the unit; and a module's units, for modules without .debug_aranges. */
struct code_range {
	Dwarf_Addr low;               /* the unit's addresses (before the bias) */
	Dwarf_Addr high;
	Dwarf_Die die;
};

struct range_list {
	struct code_range *ranges;    /* by low, once sorted */
	size_t count;
	size_t capacity;
};

struct unit_index {
	const void *unit;             /* the unit DIE's bytes: unique in the process */
	struct range_list functions;
};

enum module_state {
	MODULE_UNOPENED,   /* no address in it looked up yet */
	MODULE_READY,      /* dwfl_module answers */
	MODULE_UNUSABLE,   /* missing, unreadable or changed: addresses only */
};

struct module {
	uint32_t id;
	enum module_state state;
	const char *path;             /* interned */
	uint64_t base;
	uint32_t build_id_size;
	uint8_t build_id[CAPTURE_MAX_BUILD_ID];
	uint32_t segment_count;
	struct capture_segment segments[CAPTURE_MAX_SEGMENTS];
	Dwfl *dwfl;
	Dwfl_Module *dwfl_module;
	struct function_symbol *symbols;   /* by address; built when first needed */
	size_t symbol_count;
	bool symbols_indexed;
	struct range_list units;      /* built when .debug_aranges fails */
	Dwarf_Addr dwarf_bias;
	bool units_indexed;
};

/* One cached lookup; frame_count 0 marks an empty slot, since every result
 * has at least one frame. */
struct cache_slot {
	uint64_t ip;
	uint32_t first_frame;         /* index into frame_pool */
	uint16_t frame_count;
	bool is_return_address;
};

struct string_set {
	char **slots;
	size_t capacity;              /* a power of two, or 0 */
	size_t count;
};

struct symbolizer {
	struct module *modules;       /* in the order they were added */
	size_t module_count;
	size_t module_capacity;

	struct cache_slot *cache;
	size_t cache_capacity;        /* a power of two */
	size_t cache_count;

	struct symbol_frame *frame_pool;
	size_t frame_count;
	size_t frame_capacity;

	struct string_set strings;

	struct unit_index *units;     /* open addressing on unit */
	size_t unit_capacity;         /* a power of two, or 0 */
	size_t unit_count;

	bool without_libdw;           /* it could not be loaded: every frame an address */
	const char **warning_lines;   /* interned, to say each thing once */
	size_t warning_count;
	size_t warning_capacity;
	char *warnings;               /* the lines joined, each ending in '\n' */
	size_t warnings_length;
};

/* ---- small containers -------------------------------------------------- */

/* Returns array with room for needed elements (moved, maybe), or NULL with
 * array untouched. */
static void *grow(void *array, size_t *capacity, size_t needed, size_t element_size)
{
	if (needed <= *capacity)
		return array;
	size_t new_capacity = *capacity ? *capacity : 16;
	while (new_capacity < needed) {
		if (new_capacity > SIZE_MAX / 2 / element_size)
			return NULL;
		new_capacity *= 2;
	}
	void *grown = realloc(array, new_capacity * element_size);
	if (grown != NULL)
		*capacity = new_capacity;
	return grown;
}

static uint64_t hash_string(const char *text)
{
	uint64_t hash = 1469598103934665603u;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		hash ^= *p;
		hash *= 1099511628211u;
	}
	return hash;
}

/* Instruction addresses share their low and high bits; the mix spreads them
 * over the table (splitmix64's finaliser). */
static uint64_t hash_ip(uint64_t ip, bool is_return_address)
{
	uint64_t x = ip ^ (is_return_address ? 0x9e3779b97f4a7c15u : 0);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static int string_set_rehash(struct string_set *set, size_t capacity)
{
	char **slots = calloc(capacity, sizeof *slots);
	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < set->capacity; i++) {
		if (set->slots[i] == NULL)
			continue;
		size_t j = hash_string(set->slots[i]) & (capacity - 1);
		while (slots[j] != NULL)
			j = (j + 1) & (capacity - 1);
		slots[j] = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->capacity = capacity;
	return 0;
}

/* Returns the symbolizer's copy of text (NULL stays NULL), or NULL with
 * *error = -ENOMEM. */
static const char *intern(struct symbolizer *symbolizer, const char *text, int *error)
{
	struct string_set *set = &symbolizer->strings;
	if (text == NULL)
		return NULL;
	if ((set->count + 1) * 2 > set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : INITIAL_STRING_CAPACITY;
		int err = string_set_rehash(set, capacity);
		if (err < 0) {
			*error = err;
			return NULL;
		}
	}
	size_t i = hash_string(text) & (set->capacity - 1);
	while (set->slots[i] != NULL) {
		if (strcmp(set->slots[i], text) == 0)
			return set->slots[i];
		i = (i + 1) & (set->capacity - 1);
	}
	char *copy = strdup(text);
	if (copy == NULL) {
		*error = -ENOMEM;
		return NULL;
	}
	set->slots[i] = copy;
	set->count++;
	return copy;
}

static void string_set_finish(struct string_set *set)
{
	for (size_t i = 0; i < set->capacity; i++)
		free(set->slots[i]);
	free(set->slots);
}

/* ---- warnings ---------------------------------------------------------- */

static int warn(struct symbolizer *symbolizer, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static int warn(struct symbolizer *symbolizer, const char *format, ...)
{
	char *line = NULL;
	va_list args;
	va_start(args, format);
	int length = vasprintf(&line, format, args);
	va_end(args);
	if (length < 0)
		return -ENOMEM;

	int err = 0;
	const char *interned = intern(symbolizer, line, &err);
	free(line);
	if (interned == NULL)
		return err;
	/* The same file may be loaded several times: say it once. */
	for (size_t i = 0; i < symbolizer->warning_count; i++)
		if (symbolizer->warning_lines[i] == interned)
			return 0;

	const char **lines = grow(symbolizer->warning_lines, &symbolizer->warning_capacity,
	                          symbolizer->warning_count + 1, sizeof *lines);
	if (lines == NULL)
		return -ENOMEM;
	symbolizer->warning_lines = lines;
	size_t new_length = symbolizer->warnings_length + (size_t)length + 1;
	char *joined = realloc(symbolizer->warnings, new_length + 1);
	if (joined == NULL)
		return -ENOMEM;
	memcpy(joined + symbolizer->warnings_length, interned, (size_t)length);
	joined[new_length - 1] = '\n';
	joined[new_length] = '\0';
	symbolizer->warnings = joined;
	symbolizer->warnings_length = new_length;
	symbolizer->warning_lines[symbolizer->warning_count++] = interned;
	return 0;
}

/* ---- finding separate debug files without the network ------------------ */

static uint32_t file_crc32(int fd, bool *ok)
{
	/* .gnu_debuglink's checksum is the zlib CRC-32 of the whole file. */
	uint32_t table[256];
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[n] = c;
	}
	unsigned char buffer[65536];
	uint32_t crc = 0xffffffffu;
	*ok = false;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return 0;
	for (;;) {
		ssize_t got = read(fd, buffer, sizeof buffer);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return 0;
		if (got == 0)
			break;
		for (ssize_t i = 0; i < got; i++)
			crc = table[(crc ^ buffer[i]) & 0xff] ^ (crc >> 8);
	}
	*ok = lseek(fd, 0, SEEK_SET) == 0;
	return crc ^ 0xffffffffu;
}

/* A candidate debug file belongs to the module if its build-id matches the
 * module's, or, for a module without one, if its CRC is the debuglink's. */
static bool debug_file_matches(Dwfl_Module *mod, int fd, GElf_Word debuglink_crc)
{
	const unsigned char *module_id = NULL;
	GElf_Addr vaddr;
	int module_id_size = dw.dwfl_module_build_id(mod, &module_id, &vaddr);
	if (module_id_size <= 0) {
		bool ok;
		uint32_t crc = file_crc32(fd, &ok);
		return ok && crc == debuglink_crc;
	}
	bool matches = false;
	Elf *elf = dw.elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf == NULL)
		return false;
	const void *file_id = NULL;
	ssize_t file_id_size = dw.dwelf_elf_gnu_build_id(elf, &file_id);
	if (file_id_size == module_id_size && memcmp(file_id, module_id, (size_t)file_id_size) == 0)
		matches = true;
	dw.elf_end(elf);
	return matches;
}

/* Opens directory/name if it is another file than main (a module can name
 * itself in its debuglink) and belongs to the module.  On success stores the
 * malloc'd name, which libdwfl frees. */
static int try_debug_file(Dwfl_Module *mod, const struct stat *main_stat, const char *directory,
                          const char *name, GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", directory, name) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat candidate;
	if (fd >= 0 && fstat(fd, &candidate) == 0 && S_ISREG(candidate.st_mode)
	    && !(candidate.st_dev == main_stat->st_dev && candidate.st_ino == main_stat->st_ino)
	    && debug_file_matches(mod, fd, debuglink_crc)) {
		*debuginfo_file_name = path;
		return fd;
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

/* The places gdb and elfutils look for a debuglink name: beside the file,
 * in .debug beside it, and under /usr/lib/debug plus the file's directory. */
static int find_debuglink_beside(Dwfl_Module *mod, const char *file_name, const char *debuglink,
                                 GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct stat main_stat;
	if (stat(file_name, &main_stat) != 0)
		return -1;
	const char *slash = strrchr(file_name, '/');
	if (slash == NULL)
		return -1;
	char *directory = strndup(file_name, (size_t)(slash - file_name));
	if (directory == NULL)
		return -1;

	int fd = try_debug_file(mod, &main_stat, directory[0] ? directory : "/", debuglink,
	                        debuglink_crc, debuginfo_file_name);
	char *subdirectory = NULL;
	if (fd < 0 && asprintf(&subdirectory, "%s/.debug", directory) >= 0) {
		fd = try_debug_file(mod, &main_stat, subdirectory, debuglink, debuglink_crc,
		                    debuginfo_file_name);
		free(subdirectory);
		subdirectory = NULL;
	}
	if (fd < 0 && directory[0] == '/' && asprintf(&subdirectory, "/usr/lib/debug%s", directory) >= 0) {
		fd = try_debug_file(mod, &main_stat, subdirectory, debuglink, debuglink_crc,
		                    debuginfo_file_name);
		free(subdirectory);
	}
	free(directory);
	return fd;
}

/* dwfl_standard_find_debuginfo ends, when nothing is found locally, with a
 * debuginfod query if DEBUGINFOD_URLS is set (Debian sets it in login
 * shells).  A report must not reach out to the network, so this is its
 * local part: by build-id under /usr/lib/debug/.build-id (libdwfl's own
 * search, which also finds dwz files), then by .gnu_debuglink name. */
static int find_debuginfo_locally(Dwfl_Module *mod, void **userdata, const char *modname,
                                  Dwarf_Addr base, const char *file_name,
                                  const char *debuglink_file, GElf_Word debuglink_crc,
                                  char **debuginfo_file_name)
{
	int fd = dw.dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
	                                      debuglink_file, debuglink_crc, debuginfo_file_name);
	if (fd >= 0)
		return fd;
	/* libdwfl asks for a dwz file with a zero CRC; those are found by
	 * build-id or not at all. */
	if (file_name == NULL || debuglink_file == NULL || debuglink_crc == 0
	    || strchr(debuglink_file, '/') != NULL)
		return -1;
	fd = find_debuglink_beside(mod, file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
	if (fd >= 0)
		return fd;
	/* /lib is often a link to /usr/lib: the debug file follows the target. */
	char *canonical = realpath(file_name, NULL);
	if (canonical != NULL && strcmp(canonical, file_name) != 0)
		fd = find_debuglink_beside(mod, canonical, debuglink_file, debuglink_crc,
		                           debuginfo_file_name);
	free(canonical);
	return fd;
}

/* Modules are always reported with their file, so libdwfl never needs to
 * look for one; answering "none" keeps it from asking debuginfod. */
static int find_no_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                       char **file_name, Elf **elfp)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	*elfp = NULL;
	return -1;
}

static int section_address(Dwfl_Module *mod, void **userdata, const char *modname,
                           Dwarf_Addr base, const char *secname, GElf_Word shndx,
                           const GElf_Shdr *shdr, Dwarf_Addr *addr)
{
	return dw.dwfl_offline_section_address(mod, userdata, modname, base, secname, shndx, shdr,
	                                       addr);
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_no_elf,
	.find_debuginfo = find_debuginfo_locally,
	.section_address = section_address,
	.debuginfo_path = NULL,
};

/* ---- modules ----------------------------------------------------------- */

/* The vdso and other objects the loader names without a path were never
 * files, so there is nothing to open and nothing worth a warning. */
static bool names_a_file(const char *path)
{
	return path[0] != '\0' && strchr(path, '/') != NULL;
}

static bool build_id_differs(const struct module *module, Dwfl_Module *dwfl_module)
{
	if (module->build_id_size == 0)
		return false;           /* nothing recorded to compare */
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	int size = dw.dwfl_module_build_id(dwfl_module, &bits, &vaddr);
	return size != (int)module->build_id_size
	       || memcmp(bits, module->build_id, module->build_id_size) != 0;
}

static int open_module(struct symbolizer *symbolizer, struct module *module)
{
	module->state = MODULE_UNUSABLE;
	if (!names_a_file(module->path) || symbolizer->without_libdw)
		return 0;
	struct stat st;
	if (stat(module->path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return warn(symbolizer, "module %s not found; its frames are shown as addresses",
			            module->path);
		return warn(symbolizer, "module %s cannot be read (%s); its frames are shown as addresses",
		            module->path, strerror(errno));
	}

	Dwfl *dwfl = dw.dwfl_begin(&dwfl_callbacks);
	if (dwfl == NULL)
		return -ENOMEM;
	dw.dwfl_report_begin(dwfl);
	/* add_p_vaddr: base is the load bias (run-time minus ELF vaddr), which
	 * is what libdwfl then uses as the module's bias. */
	Dwfl_Module *dwfl_module = dw.dwfl_report_elf(dwfl, module->path, module->path, -1,
	                                           module->base, true);
	if (dwfl_module == NULL) {
		const char *reason = dw.dwfl_errmsg(-1);
		int err = warn(symbolizer, "module %s cannot be read (%s); its frames are shown as addresses",
		               module->path, reason);
		dw.dwfl_end(dwfl);
		return err;
	}
	dw.dwfl_report_end(dwfl, NULL, NULL);

	if (build_id_differs(module, dwfl_module)) {
		dw.dwfl_end(dwfl);
		return warn(symbolizer, "module %s changed since the capture was taken (build-id differs); "
		            "its frames are shown as addresses", module->path);
	}
	module->dwfl = dwfl;
	module->dwfl_module = dwfl_module;
	module->state = MODULE_READY;
	return 0;
}

static bool module_covers(const struct module *module, uint64_t address)
{
	for (uint32_t i = 0; i < module->segment_count; i++)
		if (address >= module->segments[i].start && address < module->segments[i].end)
			return true;
	return false;
}

/* The latest loaded of the modules whose segments hold address. */
static struct module *module_covering(struct symbolizer *symbolizer, uint64_t address)
{
	for (size_t i = symbolizer->module_count; i-- > 0;)
		if (module_covers(&symbolizer->modules[i], address))
			return &symbolizer->modules[i];
	return NULL;
}

/* ---- function names from the symbol tables ----------------------------- */

static int symbol_rank(const GElf_Sym *symbol)
{
	switch (GELF_ST_BIND(symbol->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	default:
		return 1;
	}
}

static size_t leading_underscores(const char *name)
{
	size_t count = 0;
	while (name[count] == '_')
		count++;
	return count;
}

/* By address; at one address the preferred name last: exported before
 * local, then the public spelling (malloc before __libc_malloc), then any
 * fixed order, so that reports do not depend on the symbol table's. */
static int compare_symbols(const void *a, const void *b)
{
	const struct function_symbol *left = a, *right = b;
	if (left->address != right->address)
		return left->address < right->address ? -1 : 1;
	if (left->rank != right->rank)
		return left->rank < right->rank ? -1 : 1;
	size_t left_underscores = leading_underscores(left->name);
	size_t right_underscores = leading_underscores(right->name);
	if (left_underscores != right_underscores)
		return left_underscores > right_underscores ? -1 : 1;
	return -strcmp(left->name, right->name);
}

/* dwfl_module_addrinfo reads the whole symbol table on every call (tens of
 * thousands of entries for a library with its debug file), so the module's
 * code symbols are sorted once instead.  Returns 0 or -ENOMEM. */
static int index_symbols(struct module *module)
{
	module->symbols_indexed = true;
	int total = dw.dwfl_module_getsymtab(module->dwfl_module);
	if (total <= 0)
		return 0;
	struct function_symbol *symbols = calloc((size_t)total, sizeof *symbols);
	if (symbols == NULL)
		return -ENOMEM;
	size_t count = 0;
	for (int i = 1; i < total; i++) {
		GElf_Sym symbol;
		GElf_Addr address;
		GElf_Word section;
		const char *name = dw.dwfl_module_getsym_info(module->dwfl_module, i, &symbol, &address,
		                                           &section, NULL, NULL);
		int type = GELF_ST_TYPE(symbol.st_info);
		if (name == NULL || name[0] == '\0' || section == SHN_UNDEF || section == (GElf_Word)-1
		    || (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE))
			continue;
		symbols[count++] = (struct function_symbol){
			.address = address,
			.size = symbol.st_size,
			.name = name,
			.rank = symbol_rank(&symbol),
		};
	}
	qsort(symbols, count, sizeof *symbols, compare_symbols);
	module->symbols = symbols;
	module->symbol_count = count;
	return 0;
}

/* The symbol whose extent holds address; failing that, the nearest label
 * (a symbol without size) before it, unless a sized symbol ends between
 * the two: what dwfl_module_addrinfo would answer. */
static const char *symbol_at(const struct module *module, uint64_t address)
{
	const struct function_symbol *symbols = module->symbols;
	size_t low = 0, high = module->symbol_count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (symbols[middle].address <= address)
			low = middle + 1;
		else
			high = middle;
	}
	/* symbols[0, low) start at or before address; at one address the best
	 * ranked comes last, so it is seen first going down. */
	const struct function_symbol *label = NULL;
	for (size_t i = low, seen = 0; i-- > 0 && seen < 64; seen++) {
		const struct function_symbol *symbol = &symbols[i];
		if (symbol->size == 0) {
			if (label == NULL)
				label = symbol;
			continue;
		}
		if (address - symbol->address < symbol->size)
			return symbol->name;
		if (label != NULL && label->address >= symbol->address + symbol->size)
			return label->name;
		return NULL;
	}
	return label != NULL ? label->name : NULL;
}

/* ---- C++ names ---------------------------------------------------------- */

typedef char *(*demangle_function)(const char *mangled, char *buffer, size_t *length, int *status);

/* The C++ demangler is libstdc++'s __cxa_demangle, found at run time: a C
 * tool need not link libstdc++, and where it is missing names stay mangled
 * (still exact, and any demangler reads them). */
static demangle_function find_demangler(void)
{
	static bool searched;
	static demangle_function demangle;
	if (!searched) {
		searched = true;
		void *library = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (library != NULL)
			demangle = (demangle_function)dlsym(library, "__cxa_demangle");
	}
	return demangle;
}

/* intern() for a function name: C++ names are demangled. */
static const char *intern_function(struct symbolizer *symbolizer, const char *name, int *error)
{
	demangle_function demangle;
	if (name == NULL || strncmp(name, "_Z", 2) != 0 || (demangle = find_demangler()) == NULL)
		return intern(symbolizer, name, error);
	int status = -1;
	char *readable = demangle(name, NULL, NULL, &status);
	const char *result = intern(symbolizer, status == 0 && readable ? readable : name, error);
	free(readable);
	return result;
}

/* ---- DWARF ------------------------------------------------------------- */

/* C++ functions are named by their mangled linkage name, which says the
 * whole signature (intern_function demangles it).  Other linkage names are assembler names (glibc's __GI_ aliases): the
 * source name is the one people know. */
static const char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attribute;
	const char *linkage_name = NULL;
	if (dw.dwarf_attr_integrate(die, DW_AT_linkage_name, &attribute) != NULL
	    || dw.dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attribute) != NULL)
		linkage_name = dw.dwarf_formstring(&attribute);
	if (linkage_name != NULL && strncmp(linkage_name, "_Z", 2) == 0)
		return linkage_name;
	const char *name = dw.dwarf_diename(die);
	return name != NULL ? name : linkage_name;
}

/* Where an inlined call was made: its file (from the file table of the unit
 * that holds the DIE) and line. */
static void call_site(Dwarf_Die *inlined, const char **file, uint32_t *line)
{
	Dwarf_Attribute attribute;
	Dwarf_Word value;
	*file = NULL;
	*line = 0;
	if (dw.dwarf_formudata(dw.dwarf_attr(inlined, DW_AT_call_line, &attribute), &value) == 0)
		*line = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
	if (dw.dwarf_formudata(dw.dwarf_attr(inlined, DW_AT_call_file, &attribute), &value) != 0)
		return;
	Dwarf_Die unit;
	Dwarf_Files *files;
	size_t file_count;
	if (dw.dwarf_diecu(inlined, &unit, NULL, NULL) != NULL
	    && dw.dwarf_getsrcfiles(&unit, &files, &file_count) == 0 && value < file_count)
		*file = dw.dwarf_filesrc(files, value, NULL, NULL);
}

static bool is_code_scope(int tag)
{
	switch (tag) {
	case DW_TAG_subprogram:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_entry_point:
	case DW_TAG_lexical_block:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
		return true;
	default:
		return false;
	}
}

/* Namespaces and classes hold functions but no code ranges of their own. */
static bool is_container(int tag)
{
	switch (tag) {
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		return true;
	default:
		return false;
	}
}

/* Finds among parent's children (looking inside containers) the scope
 * whose code holds pc.  Returns true and fills *found if there is one. */
static bool child_scope_at(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *found, int nesting)
{
	Dwarf_Die child;
	if (dw.dwarf_child(parent, &child) != 0)
		return false;
	do {
		int tag = dw.dwarf_tag(&child);
		if (is_code_scope(tag) && dw.dwarf_haspc(&child, pc) > 0) {
			*found = child;
			return true;
		}
		if (is_container(tag) && nesting < MAX_SCOPE_DEPTH
		    && child_scope_at(&child, pc, found, nesting + 1))
			return true;
	} while (dw.dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* Adds the code ranges of die. */
static int add_ranges(struct range_list *list, Dwarf_Die *die)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t offset = 0;
	while ((offset = dw.dwarf_ranges(die, offset, &base, &low, &high)) > 0) {
		if (low >= high)
			continue;
		struct code_range *ranges = grow(list->ranges, &list->capacity, list->count + 1,
		                                 sizeof *ranges);
		if (ranges == NULL)
			return -ENOMEM;
		list->ranges = ranges;
		list->ranges[list->count++] = (struct code_range){ .low = low, .high = high, .die = *die };
	}
	return 0;
}

static int compare_ranges(const void *a, const void *b)
{
	const struct code_range *left = a, *right = b;
	return (left->low > right->low) - (left->low < right->low);
}

static void sort_ranges(struct range_list *list)
{
	if (list->count > 1)
		qsort(list->ranges, list->count, sizeof *list->ranges, compare_ranges);
}

/* The DIE whose range holds pc. */
static bool range_at(const struct range_list *list, Dwarf_Addr pc, Dwarf_Die *found)
{
	size_t low = 0, high = list->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (list->ranges[middle].low <= pc)
			low = middle + 1;
		else
			high = middle;
	}
	/* Ranges do not overlap in sane DWARF; a few steps back cover the
	 * odd nested one. */
	for (size_t i = low, seen = 0; i-- > 0 && seen < 8; seen++) {
		if (pc < list->ranges[i].high) {
			*found = list->ranges[i].die;
			return true;
		}
	}
	return false;
}

static int collect_function_ranges(struct range_list *list, Dwarf_Die *parent, int nesting)
{
	Dwarf_Die child;
	if (dw.dwarf_child(parent, &child) != 0)
		return 0;
	do {
		int tag = dw.dwarf_tag(&child);
		int err = 0;
		if (is_code_scope(tag))
			err = add_ranges(list, &child);
		else if (is_container(tag) && nesting < MAX_SCOPE_DEPTH)
			err = collect_function_ranges(list, &child, nesting + 1);
		if (err < 0)
			return err;
	} while (dw.dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static struct unit_index *unit_slot(struct unit_index *table, size_t capacity, const void *unit)
{
	size_t mask = capacity - 1;
	size_t i = hash_ip((uint64_t)(uintptr_t)unit, false) & mask;
	while (table[i].unit != NULL && table[i].unit != unit)
		i = (i + 1) & mask;
	return &table[i];
}

/* The index of unit's top-level code, built on first use.  Returns NULL
 * only for lack of memory. */
static struct unit_index *unit_index_of(struct symbolizer *symbolizer, Dwarf_Die *unit)
{
	if (symbolizer->unit_capacity > 0) {
		struct unit_index *slot = unit_slot(symbolizer->units, symbolizer->unit_capacity, unit->addr);
		if (slot->unit != NULL)
			return slot;
	}
	if ((symbolizer->unit_count + 1) * 2 > symbolizer->unit_capacity) {
		size_t capacity = symbolizer->unit_capacity ? symbolizer->unit_capacity * 2 : 64;
		struct unit_index *table = calloc(capacity, sizeof *table);
		if (table == NULL)
			return NULL;
		for (size_t i = 0; i < symbolizer->unit_capacity; i++)
			if (symbolizer->units[i].unit != NULL)
				*unit_slot(table, capacity, symbolizer->units[i].unit) = symbolizer->units[i];
		free(symbolizer->units);
		symbolizer->units = table;
		symbolizer->unit_capacity = capacity;
	}

	struct unit_index index = { .unit = unit->addr };
	if (collect_function_ranges(&index.functions, unit, 0) < 0) {
		free(index.functions.ranges);
		return NULL;
	}
	sort_ranges(&index.functions);
	struct unit_index *slot = unit_slot(symbolizer->units, symbolizer->unit_capacity, unit->addr);
	*slot = index;
	symbolizer->unit_count++;
	return slot;
}

/* dwfl_module_addrdie finds units through .debug_aranges, which clang does
 * not write unless asked (-gdwarf-aranges): without this, no address of a
 * clang-built module would find its DWARF.  So when it fails, the units'
 * own ranges are asked.  Returns 1 with *unit and *bias filled, 0 if no
 * unit covers address, or -ENOMEM. */
static int unit_by_ranges(struct module *module, Dwarf_Addr address, Dwarf_Die *unit, Dwarf_Addr *bias)
{
	if (!module->units_indexed) {
		module->units_indexed = true;
		Dwarf_Die *next = NULL;
		while ((next = dw.dwfl_module_nextcu(module->dwfl_module, next, &module->dwarf_bias)) != NULL) {
			int err = add_ranges(&module->units, next);
			if (err < 0)
				return err;
		}
		sort_ranges(&module->units);
	}
	*bias = module->dwarf_bias;
	return address >= module->dwarf_bias && range_at(&module->units, address - module->dwarf_bias, unit);
}

/* Fills frames[] with the functions around pc, innermost first, each outer
 * one at the place it made the inlined call.  frames[0]'s file and line are
 * left to the caller (the line table knows them).  Returns the count, 0
 * when DWARF names no function here, or -ENOMEM.
 *
 * This finds the scopes itself rather than with dwarf_getscopes and
 * dwarf_getscopes_die: each of those walks the whole unit on every call
 * (the first to find the abstract definition of an inlined instance, which
 * a caller chain does not need), which made a lookup in a big unit several
 * times slower than all the rest. */
static int inline_chain(struct symbolizer *symbolizer, Dwarf_Die *unit, Dwarf_Addr pc,
                        const struct symbol_frame *template, struct symbol_frame *frames, int max)
{
	const struct unit_index *index = unit_index_of(symbolizer, unit);
	if (index == NULL)
		return -ENOMEM;
	Dwarf_Die scopes[MAX_SCOPE_DEPTH];
	int depth = 0;
	if (range_at(&index->functions, pc, &scopes[0]))
		depth = 1;
	while (depth > 0 && depth < MAX_SCOPE_DEPTH
	       && child_scope_at(&scopes[depth - 1], pc, &scopes[depth], 0))
		depth++;

	int count = 0;
	int err = 0;
	const char *caller_file = NULL;
	uint32_t caller_line = 0;
	for (int i = depth - 1; i >= 0 && count < max; i--) {
		int tag = dw.dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		struct symbol_frame *frame = &frames[count];
		*frame = *template;
		frame->function = intern_function(symbolizer, die_function_name(&scopes[i]), &err);
		if (count > 0) {
			frame->file = intern(symbolizer, caller_file, &err);
			frame->line = caller_line;
		}
		frame->inlined = tag == DW_TAG_inlined_subroutine;
		if (err < 0)
			return err;
		count++;
		if (tag == DW_TAG_subprogram)
			break;
		call_site(&scopes[i], &caller_file, &caller_line);
	}
	return count;
}

/* Fills frames[] for address inside a usable module.  Returns the count
 * (at least 1) or -ENOMEM. */
static int describe(struct symbolizer *symbolizer, struct module *module, uint64_t address,
                    const struct symbol_frame *template, struct symbol_frame *frames, int max)
{
	Dwfl_Module *dwfl_module = module->dwfl_module;
	int count = 0;
	int err = 0;

	Dwarf_Addr bias = 0;
	Dwarf_Die found;
	Dwarf_Die *unit = dw.dwfl_module_addrdie(dwfl_module, address, &bias);
	if (unit == NULL) {
		int found_count = unit_by_ranges(module, address, &found, &bias);
		if (found_count < 0)
			return found_count;
		if (found_count > 0)
			unit = &found;
	}
	if (unit != NULL) {
		count = inline_chain(symbolizer, unit, address - bias, template, frames, max);
		if (count < 0)
			return count;
	}
	if (count == 0) {
		frames[0] = *template;
		count = 1;
	}

	Dwarf_Line *line = unit != NULL ? dw.dwarf_getsrc_die(unit, address - bias) : NULL;
	const char *file = line != NULL ? dw.dwarf_linesrc(line, NULL, NULL) : NULL;
	int line_number = 0;
	if (file != NULL && dw.dwarf_lineno(line, &line_number) == 0) {
		frames[0].file = intern(symbolizer, file, &err);
		frames[0].line = line_number > 0 ? (uint32_t)line_number : 0;
	}

	/* No DWARF for this code (a stripped library, hand-written assembly):
	 * the symbol tables still name the function. */
	struct symbol_frame *outermost = &frames[count - 1];
	if (outermost->function == NULL && err == 0) {
		if (!module->symbols_indexed)
			err = index_symbols(module);
		if (err == 0)
			outermost->function = intern_function(symbolizer, symbol_at(module, address), &err);
	}
	return err < 0 ? err : count;
}

/* ---- the cache --------------------------------------------------------- */

static struct cache_slot *cache_find(struct symbolizer *symbolizer, uint64_t ip, bool is_return_address)
{
	size_t mask = symbolizer->cache_capacity - 1;
	for (size_t i = hash_ip(ip, is_return_address) & mask;; i = (i + 1) & mask) {
		struct cache_slot *slot = &symbolizer->cache[i];
		if (slot->frame_count == 0)
			return NULL;
		if (slot->ip == ip && slot->is_return_address == is_return_address)
			return slot;
	}
}

static void cache_place(struct cache_slot *table, size_t capacity, const struct cache_slot *entry)
{
	size_t mask = capacity - 1;
	size_t i = hash_ip(entry->ip, entry->is_return_address) & mask;
	while (table[i].frame_count != 0)
		i = (i + 1) & mask;
	table[i] = *entry;
}

static int cache_insert(struct symbolizer *symbolizer, const struct cache_slot *entry)
{
	if ((symbolizer->cache_count + 1) * 10 > symbolizer->cache_capacity * 7) {
		size_t capacity = symbolizer->cache_capacity * 2;
		struct cache_slot *table = calloc(capacity, sizeof *table);
		if (table == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < symbolizer->cache_capacity; i++)
			if (symbolizer->cache[i].frame_count != 0)
				cache_place(table, capacity, &symbolizer->cache[i]);
		free(symbolizer->cache);
		symbolizer->cache = table;
		symbolizer->cache_capacity = capacity;
	}
	cache_place(symbolizer->cache, symbolizer->cache_capacity, entry);
	symbolizer->cache_count++;
	return 0;
}

/* A new module can cover ips already answered. */
static void cache_clear(struct symbolizer *symbolizer)
{
	memset(symbolizer->cache, 0, symbolizer->cache_capacity * sizeof *symbolizer->cache);
	symbolizer->cache_count = 0;
	symbolizer->frame_count = 0;
}

/* ---- the interface ----------------------------------------------------- */

int symbolizer_create(struct symbolizer **out)
{
	*out = NULL;
	struct symbolizer *symbolizer = calloc(1, sizeof *symbolizer);
	if (symbolizer == NULL)
		return -ENOMEM;
	symbolizer->cache = calloc(INITIAL_CACHE_CAPACITY, sizeof *symbolizer->cache);
	if (symbolizer->cache == NULL) {
		free(symbolizer);
		return -ENOMEM;
	}
	symbolizer->cache_capacity = INITIAL_CACHE_CAPACITY;
	const char *reason = NULL;
	if (dw_functions_load(&reason) < 0) {
		/* The report goes on, with addresses for names. */
		symbolizer->without_libdw = true;
		int error = warn(symbolizer, "cannot load libdw (%s): every frame is shown as an "
		                 "address (apt-get install libdw1)", reason);
		if (error < 0) {
			symbolizer_destroy(symbolizer);
			return error;
		}
	} else {
		/* libelf refuses elf_begin until a version is agreed; the
		 * debug-file search opens candidates itself. */
		dw.elf_version(EV_CURRENT);
	}
	*out = symbolizer;
	return 0;
}

int symbolizer_add_module(struct symbolizer *symbolizer, const struct capture_module *record)
{
	if (symbolizer == NULL || record == NULL)
		return -EINVAL;
	if (record->unloaded) {
		/* Frames in the module stay resolvable after it is unloaded, until
		 * another is loaded over it; only an unload of a module never seen
		 * loaded adds anything, if it says where the module was. */
		for (size_t i = 0; i < symbolizer->module_count; i++)
			if (symbolizer->modules[i].id == record->id)
				return 0;
		if (record->path == NULL || record->segment_count == 0)
			return 0;
	}

	struct module *modules = grow(symbolizer->modules, &symbolizer->module_capacity,
	                              symbolizer->module_count + 1, sizeof *modules);
	if (modules == NULL)
		return -ENOMEM;
	symbolizer->modules = modules;
	int err = 0;
	struct module *module = &modules[symbolizer->module_count];
	memset(module, 0, sizeof *module);
	module->path = intern(symbolizer, record->path ? record->path : "", &err);
	if (module->path == NULL)
		return err;
	module->id = record->id;
	module->state = MODULE_UNOPENED;
	module->base = record->base;
	module->build_id_size = record->build_id_size < CAPTURE_MAX_BUILD_ID
	                        ? record->build_id_size : CAPTURE_MAX_BUILD_ID;
	memcpy(module->build_id, record->build_id, module->build_id_size);
	module->segment_count = record->segment_count < CAPTURE_MAX_SEGMENTS
	                        ? record->segment_count : CAPTURE_MAX_SEGMENTS;
	memcpy(module->segments, record->segments, module->segment_count * sizeof module->segments[0]);
	symbolizer->module_count++;

	if (symbolizer->cache_count > 0)
		cache_clear(symbolizer);
	return 0;
}

/* Works out ip's frames and caches them; returns the cache slot through
 * *slot.  Returns 0 or -ENOMEM. */
static int resolve(struct symbolizer *symbolizer, uint64_t ip, bool is_return_address,
                   const struct cache_slot **slot)
{
	struct symbol_frame frames[MAX_INLINE_DEPTH];
	/* A return address is the instruction after the call, which may be the
	 * next line or even the next function. */
	uint64_t address = is_return_address && ip > 0 ? ip - 1 : ip;
	struct symbol_frame template = { .module_offset = ip };
	int count = 1;
	int err = 0;

	struct module *module = module_covering(symbolizer, address);
	if (module != NULL) {
		template.module = module->path;
		template.module_offset = ip - module->base;
		if (module->state == MODULE_UNOPENED)
			err = open_module(symbolizer, module);
		if (err < 0)
			return err;
	}
	if (module != NULL && module->state == MODULE_READY)
		count = describe(symbolizer, module, address, &template, frames, MAX_INLINE_DEPTH);
	else
		frames[0] = template;
	if (count < 0)
		return count;

	if (symbolizer->frame_count + (size_t)count > UINT32_MAX)
		return -ENOMEM;
	struct symbol_frame *pool = grow(symbolizer->frame_pool, &symbolizer->frame_capacity,
	                                 symbolizer->frame_count + (size_t)count, sizeof *pool);
	if (pool == NULL)
		return -ENOMEM;
	symbolizer->frame_pool = pool;
	struct cache_slot entry = {
		.ip = ip,
		.first_frame = (uint32_t)symbolizer->frame_count,
		.frame_count = (uint16_t)count,
		.is_return_address = is_return_address,
	};
	err = cache_insert(symbolizer, &entry);
	if (err < 0)
		return err;
	memcpy(&symbolizer->frame_pool[symbolizer->frame_count], frames, (size_t)count * sizeof frames[0]);
	symbolizer->frame_count += (size_t)count;
	*slot = cache_find(symbolizer, ip, is_return_address);
	return 0;
}

int symbolizer_lookup(struct symbolizer *symbolizer, uint64_t ip, bool is_return_address,
                      struct symbol_frame *frames, int max)
{
	if (symbolizer == NULL || frames == NULL || max < 1)
		return -EINVAL;
	const struct cache_slot *slot = cache_find(symbolizer, ip, is_return_address);
	if (slot == NULL) {
		int err = resolve(symbolizer, ip, is_return_address, &slot);
		if (err < 0)
			return err;
	}
	int count = slot->frame_count < max ? slot->frame_count : max;
	memcpy(frames, &symbolizer->frame_pool[slot->first_frame], (size_t)count * sizeof frames[0]);
	return count;
}

const char *symbolizer_warnings(const struct symbolizer *symbolizer)
{
	return symbolizer != NULL ? symbolizer->warnings : NULL;
}

void symbolizer_destroy(struct symbolizer *symbolizer)
{
	if (symbolizer == NULL)
		return;
	for (size_t i = 0; i < symbolizer->module_count; i++)
		if (symbolizer->modules[i].dwfl != NULL)
			dw.dwfl_end(symbolizer->modules[i].dwfl);
	for (size_t i = 0; i < symbolizer->module_count; i++) {
		free(symbolizer->modules[i].symbols);
		free(symbolizer->modules[i].units.ranges);
	}
	free(symbolizer->modules);
	for (size_t i = 0; i < symbolizer->unit_capacity; i++)
		free(symbolizer->units[i].functions.ranges);
	free(symbolizer->units);
	free(symbolizer->cache);
	free(symbolizer->frame_pool);
	free(symbolizer->warning_lines);
	free(symbolizer->warnings);
	string_set_finish(&symbolizer->strings);
	free(symbolizer);
}

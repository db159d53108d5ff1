#include "cli.h"
int cmd_audit(int argc, char **argv) { cli_error("audit: not built yet"); return FA_EXIT_FAIL; }
int cmd_query(int argc, char **argv) { cli_error("query: not built yet"); return FA_EXIT_FAIL; }

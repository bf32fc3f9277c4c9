#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro that Swift cannot import; bindings pass this instead so
// SQLite copies the bound bytes before the call returns.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }

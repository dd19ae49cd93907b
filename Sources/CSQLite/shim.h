#ifndef WHARF_CSQLITE_SHIM_H
#define WHARF_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import: it tells SQLite to copy bound data.
static inline sqlite3_destructor_type wharf_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// sqlite3_db_config is variadic: keep a closing connection from checkpointing into (and so
/// changing) a file that is about to be moved aside as corrupt, and from deleting its WAL.
static inline int wharf_sqlite_disable_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}

#endif

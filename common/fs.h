/* File-system helpers shared by the modules that keep files (state/, streams/). */
#ifndef EDDY_COMMON_FS_H
#define EDDY_COMMON_FS_H

/* mkdir -p: creates dir and its missing parents (0755). Returns 0 when dir
 * exists as a directory afterwards, else -errno (-ENOTDIR, -ENAMETOOLONG, ...). */
int eddy_mkdir_p(const char *dir);

#endif

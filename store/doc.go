// Package store reads and writes the session file of cryosparc-tools
// (auth.json: instance URL → email → token and expiry) exactly as
// cryosparc-tools does: the same rules for what is valid, for order and
// duplicates, for expired sessions and for find, and the same bytes when
// writing.
//
// Lookup answers one question fast; Ask also gives, from the same read,
// the whole file a caller needs to explain the answer. Load and Parse give
// every session; Find, Insert and Erase work on them; Update is the locked
// read-modify-write that every change goes through (an advisory lock on a
// sibling .lock file, then an atomic, flushed replace), and Save writes a
// whole set. A file cryosparc-tools would reject is reported as an
// *InvalidError and never rewritten, except by Repair, which keeps a backup.
package store

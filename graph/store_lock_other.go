//go:build !unix

package graph

// lockDir: on systems without flock the store relies on badger's own directory lock, taken
// when the database is opened (after the crash recovery, which then runs unguarded).
func lockDir(dir string) (release func(), err error) { return func() {}, nil }

//go:build !unix

package trace

import (
	"errors"
	"os"
)

// mmapFile is not available here: reads use ReadAt.
func mmapFile(*os.File, int) ([]byte, error) { return nil, errors.New("no mmap") }

func munmap([]byte) error { return nil }

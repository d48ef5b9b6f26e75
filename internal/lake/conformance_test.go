package lake_test

import (
	"testing"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
)

// Every store passes the same suite.

func TestFileStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) lake.Store {
		s, err := lake.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestGCSStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) lake.Store {
		return storetest.NewFakeGCS(t, "segpipe-lake").Store(t, "team/lake")
	})
}

// At the root of a bucket, with no prefix, keys are object names.
func TestGCSStoreConformanceWithoutPrefix(t *testing.T) {
	storetest.Run(t, func(t *testing.T) lake.Store {
		return storetest.NewFakeGCS(t, "segpipe-lake").Store(t, "")
	})
}

package taskfile

import (
	"testing"

	"github.com/open-control-plane/spgen/internal/testutil"
)

// TestMain removes what the tests built once and shared.
func TestMain(m *testing.M) { testutil.Main(m) }

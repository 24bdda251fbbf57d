package typecheck

// Every spgen test binary accepts -update (see testutil.Update), so that
// `go test ./... -update` works from the repository root.
import _ "github.com/open-control-plane/spgen/internal/testutil"

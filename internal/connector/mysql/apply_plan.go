package mysql

import "github.com/godwit-dms/godwit/internal/connector/applyplan"

// The engine-neutral half of change apply (resolving changes against
// their target tables, the row operations of transactional apply, the net
// changes of batch apply) is applyplan's, bound here to this connector's
// table state.
type (
	applyChange  = applyplan.Change[*applyTable]
	applyOp      = applyplan.Op[*applyTable]
	applySegment = applyplan.Segment[*applyTable]
	applyNet     = applyplan.Net[*applyTable]
)

// applyEngine names this connector in apply's log lines and gives the
// errors apply's checks wrap.
var applyEngine = applyplan.Engine{Name: "mysql", Bad: ErrUnsupported, NoColumn: ErrUnsupported}

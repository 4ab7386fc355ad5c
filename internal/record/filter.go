package record

// Op is a DMS source filter operator.
type Op string

const (
	OpEq         Op = "eq"
	OpNotEq      Op = "noteq"
	OpLte        Op = "lte" // DMS also accepts "ste"
	OpGte        Op = "gte"
	OpBetween    Op = "between"
	OpNotBetween Op = "notbetween"
	OpNull       Op = "null"
	OpNotNull    Op = "notnull"
)

// Condition is one filter condition; values are the user's text, compared
// as the column's type.
type Condition struct {
	Op    Op
	Value string // eq, noteq, lte, gte
	Start string // between, notbetween
	End   string
}

// Filter keeps the rows whose Column matches any of Conditions. A table's
// filters are AND'ed.
type Filter struct {
	Column     string
	Conditions []Condition
}

// Range selects rows by a tuple of columns: From <= (Columns) < To, where a
// nil bound is unbounded. Comparison is lexicographic on the tuple, as in
// SQL row-value comparison. Rows with NULL in a range column are not selected.
type Range struct {
	Columns []string
	From    Row // inclusive lower bound; nil = unbounded
	To      Row // exclusive upper bound; nil = unbounded
}

// StorageRange is a part of a table cut by where its rows are stored:
// places a source gave (connector.StorageSplitter), From inclusive, To
// exclusive, "" unbounded.
type StorageRange struct {
	From string `json:",omitempty"`
	To   string `json:",omitempty"`
}

package apiserver

import (
	"context"
	"errors"
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/service"
)

// implemented reports whether the server overrides the operation: it calls
// the method with an empty input on a server without a service and looks for
// the not-implemented fault (a panic on the missing service means the method
// is real).
func implemented(op string) (yes bool) {
	srv := &Server{Svc: &service.Service{}}
	m := reflect.ValueOf(srv).MethodByName(op)
	in := reflect.New(m.Type().In(1).Elem())
	defer func() {
		if recover() != nil {
			yes = true
		}
	}()
	out := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
	err, _ := out[1].Interface().(error)
	var f *api.Fault
	return !(errors.As(err, &f) && f.Code == api.CodeNotImplemented)
}

func TestCompatibilityDocIsTrue(t *testing.T) {
	doc, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| (implemented|partial|not implemented) \\|").FindAllStringSubmatch(string(doc), -1)
	states := map[string]string{}
	for _, r := range rows {
		states[r[1]] = r[2]
	}
	for op := range api.Dispatch {
		state, ok := states[op]
		if !ok {
			t.Errorf("docs/compatibility.md has no row for %s", op)
			continue
		}
		if got := implemented(op); got != (state != "not implemented") {
			t.Errorf("%s: the doc says %q but the server implements it: %v", op, state, got)
		}
	}
	if len(states) != len(api.Dispatch) {
		t.Errorf("docs/compatibility.md lists %d operations, the API has %d", len(states), len(api.Dispatch))
	}
}

package testenv_test

import (
	"os"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestZZCrash(t *testing.T) {
	if os.Getenv("GW_CRASH") == "" {
		t.Skip()
	}
	testenv.Postgres(t)
	testenv.MariaDB(t)
	time.Sleep(time.Minute)
}

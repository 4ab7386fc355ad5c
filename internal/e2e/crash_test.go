package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// process is a godwit binary running `serve`.
type process struct {
	cmd *exec.Cmd
	url string
	log string // the path of its log (standard error)
}

func buildGodwit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "godwit")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/godwit").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startProcess(t *testing.T, bin, dataDir string, flags ...string) *process {
	t.Helper()
	// Full loads commit every 50 ms (not every second), so that a kill
	// mid-load finds several commits of several batches each behind it.
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--min-task-running-time", "0s",
		"--full-load-commit-interval", "50ms"}, flags...)...)
	stdout, _ := cmd.StdoutPipe()
	logPath := filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+fmt.Sprintf(".%d.log", time.Now().UnixNano()))
	logFile, _ := os.Create(logPath)
	cmd.Stderr = logFile
	t.Cleanup(func() {
		if t.Failed() {
			if cmd.ProcessState == nil {
				cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump into the log
				time.Sleep(500 * time.Millisecond)
			}
			t.Logf("godwit process state: %v", cmd.ProcessState)
			b, _ := os.ReadFile(logPath)
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("godwit log %s:\n%s", logPath, b)
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
		for sc.Scan() {
			if u := re.FindString(sc.Text()); u != "" {
				urls <- u
			}
		}
	}()
	select {
	case u := <-urls:
		return &process{cmd: cmd, url: u, log: logPath}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("godwit serve did not start")
	}
	return nil
}

func (p *process) client(t *testing.T, dataDir string) *dmssdk.Client {
	raw, err := os.ReadFile(filepath.Join(dataDir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ AccessKeyId, SecretAccessKey string }
	json.Unmarshal(raw, &c)
	return dmssdk.New(dmssdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), RetryMaxAttempts: 1,
		// Responses are read whole before the SDK decodes them, as the
		// in-process tests do (see the note on the SDK and separate server
		// processes in docs/compatibility.md).
		HTTPClient:  &http.Client{Transport: recorder{next: &http.Transport{}, out: &syncBuffer{}}},
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyId, c.SecretAccessKey, "")})
}

// Killing Godwit (SIGKILL) in the middle of a full load loses and
// duplicates nothing: after a restart the task resumes and the target ends
// equal to the source. So too for a table loaded in parts of the source's
// storage into a table created without its key, which loads again from its
// start and ends with its key.
func TestFullLoadSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Run("key order", func(t *testing.T) {
		testFullLoadSurvivesKill(t, `{"FullLoadSettings":{"CommitRate":2000,"MaxFullLoadSubTasks":2}}`, "starts again")
	})
	t.Run("storage parts", func(t *testing.T) {
		if runtime.NumCPU() < 2 {
			t.Skip("one CPU: a table is not cut into parts")
		}
		testFullLoadSurvivesKill(t, `{"FullLoadSettings":{"CommitRate":2000,"TargetTablePrepMode":"DROP_AND_CREATE","CreatePkAfterFullLoad":true}}`,
			"its segments were parts of the source's storage", "--full-load-segment-rows", "100000")
	})
}

// testFullLoadSurvivesKill kills a process loading with the task settings
// given, and looks for restarted in the restarted process's log.
func testFullLoadSurvivesKill(t *testing.T, settings, restarted string, flags ...string) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE big (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 400000) g`, `ANALYZE big`,
		`CREATE TABLE other (id int PRIMARY KEY)`, `INSERT INTO other SELECT generate_series(1, 1000)`)
	bin := buildGodwit(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	p1 := startProcess(t, bin, dataDir, flags...)
	defer p1.cmd.Process.Kill()
	c := p1.client(t, dataDir)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "crash")
	src := createEndpoint(t, c, endpointArgs{id: "src", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: srcDB})
	tgt := createEndpoint(t, c, endpointArgs{id: "tgt", engine: "postgres", typ: "target", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: tgtDB})
	pp := pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(src.EndpointArn), tgtARN: aws.ToString(tgt.EndpointArn)}
	arn := createTask(t, pp, "crash-task", "full-load", includeAll, settings)
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); tableStats(t, c, arn)["public.big"].FullLoadRows < 20000; {
		if time.Now().After(deadline) {
			t.Fatal("the load never got going")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Kill it mid-load, with no chance to clean up.
	p1.cmd.Process.Signal(syscall.SIGKILL)
	p1.cmd.Wait()
	mid, n := pgChecksum(t, pg.DSN(tgtDB), `SELECT * FROM big`)
	if n >= 400000 {
		t.Skipf("the load finished before the kill (%s)", mid)
	}

	p2 := startProcess(t, bin, dataDir, flags...)
	defer p2.cmd.Process.Kill()
	c2 := p2.client(t, dataDir)
	task := waitStatus(t, c2, arn, "stopped", "failed")
	if aws.ToString(task.StopReason) != "Stop Reason FULL_LOAD_ONLY_FINISHED" {
		t.Fatalf("after the restart the task ended %s %q: %s", aws.ToString(task.Status), aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	for _, q := range []string{`SELECT * FROM big`, `SELECT * FROM other`} {
		want, wn := pgChecksum(t, pg.DSN(srcDB), q)
		got, gn := pgChecksum(t, pg.DSN(tgtDB), q)
		if want != got || wn != gn {
			t.Fatalf("%s after kill and restart: source %d rows, target %d rows", q, wn, gn)
		}
	}
	if ts := tableStats(t, c2, arn)["public.big"]; ts.FullLoadRows != 400000 {
		t.Fatalf("statistics say %d rows", ts.FullLoadRows)
	}
	// big was read in storage order (one segment, or parts): with no check
	// of its resume point before the kill, its load started again.
	if b, _ := os.ReadFile(p2.log); !strings.Contains(string(b), restarted) {
		t.Fatalf("the restarted process did not load public.big again from its start (%q):\n%s", restarted, b)
	}
	if key := primaryKey(t, pg.DSN(tgtDB), "big"); key != "PRIMARY KEY (id)" {
		t.Fatalf("the target's key after the load: %q", key)
	}
}

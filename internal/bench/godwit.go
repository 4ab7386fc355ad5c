package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/godwit-dms/godwit/internal/app"
)

// godwit is an in-process Godwit server (app.New with its own data
// directory, authentication off, the engine started) and the Go SDK's DMS
// client pointed at it over loopback HTTP: the benchmark drives it exactly
// as a user's program would.
type godwit struct {
	app     *app.App
	client  *dmssdk.Client
	dataDir string
	cancel  context.CancelFunc
	served  chan error

	instanceARN string
	endpoints   map[string]string // endpoint name → ARN
}

func startGodwit(ctx context.Context, dataDir string, logw io.Writer) (*godwit, error) {
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(ctx)
	a, err := app.New(ctx, app.Config{DataDir: dataDir, AuthNone: true, Logger: log, ConnectionTestTimeout: 30 * time.Second})
	if err != nil {
		cancel()
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		a.Close()
		return nil, err
	}
	a.Start(ctx)
	g := &godwit{app: a, dataDir: dataDir, cancel: cancel, served: make(chan error, 1), endpoints: map[string]string{}}
	go func() { g.served <- a.Serve(ctx, l) }()
	g.client = dmssdk.New(dmssdk.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		BaseEndpoint:     aws.String("http://" + l.Addr().String()),
		HTTPClient:       &http.Client{Timeout: time.Minute},
		RetryMaxAttempts: 3,
	})
	return g, nil
}

func (g *godwit) close() error {
	g.cancel()
	err := <-g.served
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, g.app.Close())
}

// createInstance creates the replication instance and waits until it is available.
func (g *godwit) createInstance(ctx context.Context) error {
	out, err := g.client.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{
		ReplicationInstanceIdentifier: aws.String("bench"),
		ReplicationInstanceClass:      aws.String("dms.t3.medium"),
	})
	if err != nil {
		return fmt.Errorf("create the replication instance: %w", err)
	}
	arn := aws.ToString(out.ReplicationInstance.ReplicationInstanceArn)
	w := dmssdk.NewReplicationInstanceAvailableWaiter(g.client, func(o *dmssdk.ReplicationInstanceAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &dmssdk.DescribeReplicationInstancesInput{
		Filters: []types.Filter{{Name: aws.String("replication-instance-arn"), Values: []string{arn}}},
	}, 2*time.Minute); err != nil {
		return fmt.Errorf("the replication instance never became available: %w", err)
	}
	g.instanceARN = arn
	return nil
}

// endpoint creates the endpoint once and returns its ARN.
func (g *godwit) endpoint(ctx context.Context, name string, in *dmssdk.CreateEndpointInput) (string, error) {
	if arn, ok := g.endpoints[name]; ok {
		return arn, nil
	}
	in.EndpointIdentifier = aws.String(name)
	out, err := g.client.CreateEndpoint(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create endpoint %s: %w", name, err)
	}
	arn := aws.ToString(out.Endpoint.EndpointArn)
	g.endpoints[name] = arn
	return arn, nil
}

// dbEndpoint is the CreateEndpoint input of a database endpoint, without TLS
// (DMS's default SslMode none).
func dbEndpoint(engine string, typ types.ReplicationEndpointTypeValue, host string, port int, user, password, db string) *dmssdk.CreateEndpointInput {
	return &dmssdk.CreateEndpointInput{
		EngineName: aws.String(engine), EndpointType: typ,
		ServerName: aws.String(host), Port: aws.Int32(int32(port)), Username: aws.String(user), Password: aws.String(password),
		DatabaseName: aws.String(db),
	}
}

// tableMappings selects schema.t, renamed to targetSchema when that is set.
func tableMappings(schema, targetSchema string) string {
	m := fmt.Sprintf(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"bench","object-locator":{"schema-name":%q,"table-name":"t"},"rule-action":"include"}`, schema)
	if targetSchema != "" && targetSchema != schema {
		m += fmt.Sprintf(`,{"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":%q},"rule-action":"rename","value":%q}`, schema, targetSchema)
	}
	return m + "]}"
}

// createTask creates a task of the migration type and waits until it is ready.
func (g *godwit) createTask(ctx context.Context, id string, typ types.MigrationTypeValue, srcARN, tgtARN, mappings, settings string) (string, error) {
	in := &dmssdk.CreateReplicationTaskInput{
		ReplicationTaskIdentifier: aws.String(id), MigrationType: typ,
		ReplicationInstanceArn: aws.String(g.instanceARN), SourceEndpointArn: aws.String(srcARN), TargetEndpointArn: aws.String(tgtARN),
		TableMappings: aws.String(mappings),
	}
	if settings != "" {
		in.ReplicationTaskSettings = aws.String(settings)
	}
	out, err := g.client.CreateReplicationTask(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create task %s: %w", id, err)
	}
	arn := aws.ToString(out.ReplicationTask.ReplicationTaskArn)
	w := dmssdk.NewReplicationTaskReadyWaiter(g.client, func(o *dmssdk.ReplicationTaskReadyWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, taskFilter(arn), 2*time.Minute); err != nil {
		return "", fmt.Errorf("task %s never became ready: %w", id, err)
	}
	return arn, nil
}

func taskFilter(arn string) *dmssdk.DescribeReplicationTasksInput {
	return &dmssdk.DescribeReplicationTasksInput{Filters: []types.Filter{{Name: aws.String("replication-task-arn"), Values: []string{arn}}}}
}

// describeTask returns the task as DescribeReplicationTasks shows it.
func (g *godwit) describeTask(ctx context.Context, arn string) (types.ReplicationTask, error) {
	d, err := g.client.DescribeReplicationTasks(ctx, taskFilter(arn))
	if err != nil {
		return types.ReplicationTask{}, err
	}
	if len(d.ReplicationTasks) != 1 {
		return types.ReplicationTask{}, fmt.Errorf("DescribeReplicationTasks returned %d tasks", len(d.ReplicationTasks))
	}
	return d.ReplicationTasks[0], nil
}

// pollEvery is how often the task's status is read while it runs.
const pollEvery = 50 * time.Millisecond

// runTask starts the task and polls DescribeReplicationTasks until it has
// stopped; it returns the stopped task, and fails unless the full load
// finished without a table error.
func (g *godwit) runTask(ctx context.Context, arn string) (types.ReplicationTask, error) {
	if _, err := g.client.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{
		ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: types.StartReplicationTaskTypeValueStartReplication,
	}); err != nil {
		return types.ReplicationTask{}, fmt.Errorf("start the task: %w", err)
	}
	for {
		task, err := g.describeTask(ctx, arn)
		if err != nil {
			return task, err
		}
		switch st := aws.ToString(task.Status); st {
		case "starting", "running", "stopping":
		case "stopped":
			if r := aws.ToString(task.StopReason); r != "Stop Reason FULL_LOAD_ONLY_FINISHED" {
				return task, fmt.Errorf("the task stopped with %q: %s", r, aws.ToString(task.LastFailureMessage))
			}
			if s := task.ReplicationTaskStats; s == nil || s.TablesErrored != 0 || s.TablesLoaded != 1 {
				return task, fmt.Errorf("the task finished with table statistics %+v: %s", s, aws.ToString(task.LastFailureMessage))
			}
			return task, nil
		default:
			return task, fmt.Errorf("the task ended %s: %s", st, aws.ToString(task.LastFailureMessage))
		}
		select {
		case <-ctx.Done():
			return task, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// tableStats returns the statistics of the task's only table.
func (g *godwit) tableStats(ctx context.Context, arn string) (types.TableStatistics, error) {
	out, err := g.client.DescribeTableStatistics(ctx, &dmssdk.DescribeTableStatisticsInput{ReplicationTaskArn: aws.String(arn)})
	if err != nil {
		return types.TableStatistics{}, err
	}
	if len(out.TableStatistics) != 1 {
		return types.TableStatistics{}, fmt.Errorf("DescribeTableStatistics returned %d tables", len(out.TableStatistics))
	}
	return out.TableStatistics[0], nil
}

// deleteTask removes a finished task (best effort).
func (g *godwit) deleteTask(ctx context.Context, arn string) {
	_, _ = g.client.DeleteReplicationTask(ctx, &dmssdk.DeleteReplicationTaskInput{ReplicationTaskArn: aws.String(arn)})
}

// startTask starts (or resumes) a task without waiting for it.
func (g *godwit) startTask(ctx context.Context, arn string, typ types.StartReplicationTaskTypeValue) error {
	before, err := g.describeTask(ctx, arn)
	if err != nil {
		return err
	}
	if _, err := g.client.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{
		ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: typ,
	}); err != nil {
		// As for stopTask: a retried request whose first attempt started
		// the task is refused because the task runs; a start after the
		// one described before the call is that first attempt's.
		var state *types.InvalidResourceStateFault
		task, derr := g.describeTask(ctx, arn)
		if !errors.As(err, &state) || derr != nil || !startedSince(before, task) {
			return fmt.Errorf("start the task (%s): %w", typ, err)
		}
	}
	return nil
}

// startedSince says whether the task was started after it was described
// as before: it is starting or running with a later start date.
func startedSince(before, now types.ReplicationTask) bool {
	switch aws.ToString(now.Status) {
	case "starting", "running":
	default:
		return false
	}
	if now.ReplicationTaskStartDate == nil {
		return false
	}
	return before.ReplicationTaskStartDate == nil || now.ReplicationTaskStartDate.After(*before.ReplicationTaskStartDate)
}

// stopTask stops a running task and waits until it has stopped. A stop
// refused because the task is stopped already is no error: the SDK
// retries a request whose answer it lost, and the first one may have
// stopped the task.
func (g *godwit) stopTask(ctx context.Context, arn string) error {
	if _, err := g.client.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		var state *types.InvalidResourceStateFault
		if task, derr := g.describeTask(ctx, arn); !errors.As(err, &state) || derr != nil || aws.ToString(task.Status) != "stopped" {
			return fmt.Errorf("stop the task: %w", err)
		}
	}
	_, err := g.waitStatus(ctx, arn, "stopped")
	return err
}

// waitStatus polls the task until its status is want; a failed task (or
// any stopped one when want is running) is an error.
func (g *godwit) waitStatus(ctx context.Context, arn, want string) (types.ReplicationTask, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		task, err := g.describeTask(ctx, arn)
		if err != nil {
			return task, err
		}
		switch st := aws.ToString(task.Status); {
		case st == want:
			return task, nil
		case st == "failed" || (want == "running" && st == "stopped"):
			return task, fmt.Errorf("the task is %s (%s): %s", st, aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
		}
		if time.Now().After(deadline) {
			return task, fmt.Errorf("the task is still %s, not %s", aws.ToString(task.Status), want)
		}
		select {
		case <-ctx.Done():
			return task, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// appliedChanges is the number of changes the task's only table has had
// applied (inserts, updates and deletes, DescribeTableStatistics).
func (g *godwit) appliedChanges(ctx context.Context, arn string) (int64, error) {
	ts, err := g.tableStats(ctx, arn)
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(ts.AppliedInserts) + aws.ToInt64(ts.AppliedUpdates) + aws.ToInt64(ts.AppliedDeletes), nil
}

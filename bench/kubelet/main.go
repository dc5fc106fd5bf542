// Command kubelet-manager is the kubelet's own watching secret manager
// (k8s.io/kubernetes/pkg/kubelet/secret.NewWatchingSecretManager) run as a benchmark worker, so
// that refwatch's SecretManager is compared with the real thing rather than a re-creation.
//
// It is driven by bench/side-by-side over stdin and stdout, one JSON object per line, with the
// same protocol as the Node workers (bench/side-by-side/protocol.ts is the reference):
//
//	stdout  {"type":"hello",...}                  once, after a GC, with the baseline memory
//	stdin   {"op":"start"}                        register one pod per secret, then get each
//	                                              secret, retrying every failed get, as a
//	                                              kubelet's pod workers do
//	stdout  {"type":"progress",...}               every second until all are readable
//	stdout  {"type":"ready","readyMs":...}
//	stdin   {"op":"memory"}                       -> {"type":"memory",...} after two GCs
//	stdin   {"op":"expect","name":..,"value":..,"timeoutMs":..}
//	stdout  {"type":"armed"} then {"type":"visible","atMs":..}  (atMs null: not seen in time)
//	stdin   {"op":"stop"}                         -> {"type":"stopped"}, exit 0
//
// Time stamps are CLOCK_MONOTONIC milliseconds, the clock Node's process.hrtime reads, so the
// orchestrator can subtract its own write time from the moment this process saw the change.
// stdin closing (the orchestrator died) ends the process.
//
// It is not committed as a module: scripts/bench/build-kubelet.sh builds it in a temporary
// module pinned to one k8s release (see there).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubernetes/pkg/kubelet/secret"
)

// Set by the build (-ldflags -X main.k8sVersion=...).
var k8sVersion = "unknown"

// The key each benchmark secret holds; the orchestrator writes new values under it.
const dataKey = "key"

// How often an "expect" re-reads the secret from the manager's cache. 1 ms is the finest
// interval the Node workers can poll at without spinning, and every variant must poll alike.
const pollInterval = time.Millisecond

// A failed get that returned faster than this is retried after it (as in the Node workers), so
// that a get failing at once cannot turn a retry loop into a busy loop.
const retryFloor = 10 * time.Millisecond

type command struct {
	Op        string  `json:"op"`
	Name      string  `json:"name"`
	Value     string  `json:"value"`
	TimeoutMs float64 `json:"timeoutMs"`
}

type output struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (o *output) send(msg map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.enc.Encode(msg); err != nil {
		os.Exit(1) // the orchestrator is gone
	}
}

func monotonicMs() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Sec)*1e3 + float64(ts.Nsec)/1e6
}

func memory() map[string]any {
	// Two collections: the first may leave objects that finalizers keep alive for one cycle.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return map[string]any{
		"heapInuse":  ms.HeapInuse,
		"heapAlloc":  ms.HeapAlloc,
		"stackInuse": ms.StackInuse,
		"sys":        ms.Sys,
		"goroutines": runtime.NumGoroutine(),
	}
}

// podFor is one pod referencing one secret through envFrom, as the Node workers register.
func podFor(namespace string, i int) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("pod-%d", i), UID: types.UID(fmt.Sprintf("uid-%d", i))},
		Spec: v1.PodSpec{Containers: []v1.Container{{
			Name:    "c",
			EnvFrom: []v1.EnvFromSource{{SecretRef: &v1.SecretEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: secretName(i)}}}},
		}}},
	}
}

func secretName(i int) string { return fmt.Sprintf("secret-%d", i) }

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	namespace := flag.String("namespace", "bench", "namespace of the secrets")
	count := flag.Int("count", 0, "secrets secret-0 .. secret-<count-1>, one pod each")
	// The kubelet's defaults (KubeletConfiguration kubeAPIQPS, kubeAPIBurst, contentType).
	// Lists are rate limited by them; watches, and WatchList's initial watch, are not.
	qps := flag.Float64("qps", 50, "client QPS (kubelet default 50)")
	burst := flag.Int("burst", 100, "client burst (kubelet default 100)")
	contentType := flag.String("content-type", "application/vnd.kubernetes.protobuf", "client content type (kubelet default protobuf)")
	resync := flag.Duration("resync", time.Minute, "the kubelet's syncFrequency; watches idle for 5x this are stopped")
	version := flag.Bool("version", false, "print the k8s version this was built against and exit")
	flag.Parse()
	if *version {
		fmt.Printf("kubelet-manager k8s.io/kubernetes %s %s\n", k8sVersion, runtime.Version())
		return
	}
	if *kubeconfig == "" || *count <= 0 {
		fmt.Fprintln(os.Stderr, "usage: kubelet-manager -kubeconfig FILE -count N [-namespace NS]")
		os.Exit(2)
	}

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		os.Exit(1)
	}
	config.QPS = float32(*qps)
	config.Burst = *burst
	config.ContentType = *contentType
	client, err := clientset.NewForConfig(config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}

	out := &output{enc: json.NewEncoder(os.Stdout)}
	out.send(map[string]any{"type": "hello", "pid": os.Getpid(), "runtime": runtime.Version(), "k8s": k8sVersion, "memory": memory()})

	manager := secret.NewWatchingSecretManager(client, *resync)
	var started atomic.Bool

	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 64*1024), 1024*1024)
	for lines.Scan() {
		var cmd command
		if err := json.Unmarshal(lines.Bytes(), &cmd); err != nil {
			out.send(map[string]any{"type": "error", "message": "bad command: " + err.Error()})
			continue
		}
		switch cmd.Op {
		case "start":
			if started.Swap(true) {
				continue
			}
			go syncAll(manager, *namespace, *count, out)
		case "memory":
			mem := memory()
			mem["type"] = "memory"
			out.send(mem)
		case "expect":
			go expect(manager, *namespace, cmd, out)
		case "stop":
			out.send(map[string]any{"type": "stopped"})
			os.Exit(0)
		default:
			out.send(map[string]any{"type": "error", "message": "unknown op " + cmd.Op})
		}
	}
	os.Exit(0)
}

// syncAll registers every pod, then gets every secret from its own goroutine (a pod worker
// each), retrying until the get succeeds, and reports progress every second.
func syncAll(manager secret.Manager, namespace string, count int, out *output) {
	start := monotonicMs()
	for i := 0; i < count; i++ {
		manager.RegisterPod(podFor(namespace, i))
	}
	var readable, failedGets atomic.Int64
	var lastError atomic.Value
	var wg sync.WaitGroup
	wg.Add(count)
	for i := 0; i < count; i++ {
		go func(name string) {
			defer wg.Done()
			for {
				started := time.Now()
				_, err := manager.GetSecret(namespace, name)
				if err == nil {
					readable.Add(1)
					return
				}
				failedGets.Add(1)
				// The message names the secret but never holds its data.
				lastError.Store(err.Error())
				if time.Since(started) < retryFloor {
					time.Sleep(retryFloor)
				}
			}
		}(secretName(i))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			out.send(map[string]any{"type": "ready", "readyMs": monotonicMs() - start, "readable": readable.Load(), "failedGets": failedGets.Load()})
			return
		case <-ticker.C:
			msg := map[string]any{"type": "progress", "elapsedMs": monotonicMs() - start, "readable": readable.Load(), "failedGets": failedGets.Load(), "goroutines": runtime.NumGoroutine()}
			if e, ok := lastError.Load().(string); ok {
				msg["lastError"] = e
			}
			out.send(msg)
		}
	}
}

// expect polls the manager's cache until the secret holds value, or until the timeout.
func expect(manager secret.Manager, namespace string, cmd command, out *output) {
	seen := func() bool {
		s, err := manager.GetSecret(namespace, cmd.Name)
		return err == nil && string(s.Data[dataKey]) == cmd.Value
	}
	if seen() {
		out.send(map[string]any{"type": "error", "message": "expected value already visible before the write"})
		return
	}
	out.send(map[string]any{"type": "armed", "name": cmd.Name})
	deadline := time.Now().Add(time.Duration(cmd.TimeoutMs * float64(time.Millisecond)))
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for range ticker.C {
		if seen() {
			out.send(map[string]any{"type": "visible", "name": cmd.Name, "atMs": monotonicMs()})
			return
		}
		if time.Now().After(deadline) {
			out.send(map[string]any{"type": "visible", "name": cmd.Name, "atMs": nil})
			return
		}
	}
}

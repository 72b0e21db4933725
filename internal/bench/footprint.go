package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// footprint seeds many portals directly into Redis, starts a real
// `refhub serve` process on them, and reads its resident memory while it
// idles; then it queues signups through that process (delivery off) and
// reads Redis's memory per portal and per queued signup.
func (e *env) footprint(ctx context.Context, rep *Report) error {
	if len(e.cfg.Serve) == 0 {
		return errors.New("no command to run `refhub serve` (Config.Serve)")
	}
	c := e.redis.Client()
	err := c.FlushAll(ctx).Err() // the other sections are done: clean deltas
	c.Close()
	if err != nil {
		return err
	}
	mem0, err := e.usedMemory(ctx)
	if err != nil {
		return err
	}
	seeder, err := e.startApp(dbFootprint, 0)
	if err != nil {
		return err
	}
	ps, err := e.seed(ctx, seeder, e.newHubs(e.sz.fpPortals), seedOpts{noSim: true})
	seeder.close()
	if err != nil {
		return err
	}
	mem1, err := e.usedMemory(ctx)
	if err != nil {
		return err
	}
	p, err := e.startServe(ctx)
	if err != nil {
		return err
	}
	defer p.stop()
	time.Sleep(e.sz.idleFor)
	idle := p.rss()
	queued, err := e.queueThrough(ctx, p.url, ps[:e.sz.fpLanes])
	if err != nil {
		return err
	}
	mem2, err := e.usedMemory(ctx)
	if err != nil {
		return err
	}
	time.Sleep(e.sz.idleFor)
	busy := p.rss()
	e.footprintRows(rep, idle, busy, (mem1-mem0)/float64(len(ps)), (mem2-mem1)/float64(queued))
	return nil
}

func (e *env) footprintRows(rep *Report, idle, busy, perPortal, perSignup float64) {
	n := thousands(float64(e.sz.fpPortals))
	rep.add(Row{"Footprint", fmt.Sprintf("`refhub serve` resident memory (VmRSS), %s portals configured, idle", n),
		bytesIEC(idle), "—", "—", "the Go runtime, HTTP server and libraries: nothing per portal is held in memory while idle"})
	rep.add(Row{"Footprint", fmt.Sprintf("… after %s signups to %d of its portals (delivery off)", thousands(float64(e.sz.fpSignups)), e.sz.fpLanes),
		bytesIEC(busy), "—", "—", "connection buffers, the source cache and garbage not yet collected"})
	rep.add(Row{"Footprint", "Redis memory per portal (portal, tokens, one source, indexes)",
		bytesIEC(perPortal), "—", "—", "JSON records with sealed (encrypted) tokens and the source's mapping"})
	rep.add(Row{"Footprint", "Redis memory per queued signup (event, lane entry, activity, dedupe marker, counters)",
		bytesIEC(perSignup), "—", "—", "the event record with its normalized payload, kept for the activity log after delivery"})
}

func (e *env) usedMemory(ctx context.Context) (float64, error) {
	m, err := e.redisInfo(ctx, "memory", "used_memory")
	return m["used_memory"], err
}

// queueThrough posts fpSignups signups spread over ps through the webhook
// of the process at base, and returns how many were accepted.
func (e *env) queueThrough(ctx context.Context, base string, ps []portal) (int, error) {
	urls := make([]string, len(ps))
	for i, p := range ps {
		urls[i] = base + hookPath(p.src)
	}
	g := newLoadGen(e.sz.ingestConns, fmt.Sprintf("fp-%d", ps[0].hub), urls...)
	defer g.close()
	res := g.count(ctx, e.sz.ingestConns, e.sz.fpSignups)
	if res.accepted != e.sz.fpSignups {
		return res.accepted, fmt.Errorf("%d of %d signups accepted (%v)", res.accepted, e.sz.fpSignups, res.statuses)
	}
	return res.accepted, nil
}

// serveProc is a `refhub serve` child process.
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed once the process is reaped
}

func (e *env) startServe(ctx context.Context) (*serveProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := e.config(addr, dbFootprint, 0)
	cmd := exec.Command(e.cfg.Serve[0], e.cfg.Serve[1:]...)
	cmd.Env = append(append(os.Environ(), e.cfg.ServeEnv...),
		"REFHUB_ADDR="+addr, "REFHUB_PUBLIC_URL="+cfg.PublicURL, "REFHUB_REDIS_URL="+cfg.RedisURL,
		"HUBSPOT_CLIENT_ID="+clientID, "HUBSPOT_CLIENT_SECRET="+clientSecret, "REFHUB_ENCRYPTION_KEYS="+e.keys,
		"REFHUB_SESSION_SECRET="+sessionSecret, "HUBSPOT_API_BASE="+e.simURL, "HUBSPOT_APP_BASE="+e.simURL,
		"REFHUB_WORKERS=0", "REFHUB_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = e.cfg.Log, e.cfg.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", strings.Join(e.cfg.Serve, " "), err)
	}
	p := &serveProc{cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	err = waitUntil(ctx, 20*time.Second, func() (bool, error) {
		select {
		case <-p.exited:
			return false, errors.New("refhub serve exited: " + cmd.ProcessState.String())
		default:
		}
		resp, err := http.Get(p.url + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// rss is the process's resident memory in bytes (VmRSS).
func (p *serveProc) rss() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
	}
}

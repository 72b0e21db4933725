package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// amplification is what one webhook body cost.
type amplification struct {
	status         int
	body, answer   int
	stored         int64 // bytes of the event records the request left in Redis
	redisGrowth    int64 // Redis used_memory after minus before
	peakHeap       int64 // runtime heap in use, peak during the request minus before
	elapsed        time.Duration
	answerExcerpts string
}

// measureAmplification posts body to a source and reports what it cost:
// the answer, what Redis holds afterwards, and this process's peak heap
// (sampled every millisecond while the request runs).
func measureAmplification(t *testing.T, env *apptest.Env, hook string, hub int64, body []byte) amplification {
	t.Helper()
	ctx := context.Background()
	runtime.GC()
	usedBefore := redisUsedMemory(t, env)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapInuse)
	peak := base
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var s runtime.MemStats
				runtime.ReadMemStats(&s)
				peak = max(peak, int64(s.HeapInuse))
			}
		}
	}()
	start := time.Now()
	status, answer := apptest.Post(t, hook, "application/json", body)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	var stored int64
	vals, err := env.Redis.HGetAll(ctx, tenants.PortalKey(hub, "ev")).Result()
	require.NoError(t, err)
	for _, v := range vals {
		stored += int64(len(v))
	}
	excerpt := string(answer)
	if len(excerpt) > 160 {
		excerpt = excerpt[:160] + "…"
	}
	return amplification{status: status, body: len(body), answer: len(answer), stored: stored,
		redisGrowth: redisUsedMemory(t, env) - usedBefore, peakHeap: peak - base, elapsed: elapsed, answerExcerpts: excerpt}
}

func redisUsedMemory(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	info, err := env.Redis.Info(context.Background(), "memory").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			var n int64
			_, _ = fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatal("no used_memory in INFO memory")
	return 0
}

// TestWebhookAmplification measures the shapes of the outside review — a
// 101 KB body {"AAAA…(100 k)": [1 ×499]} and its 1 MiB variant — and holds
// what each may cost: the answer and what is stored are bounded by a small
// multiple of the body plus a constant, and the process's heap by a few
// times the body. Run with -v for the figures (body, answer, stored, Redis
// growth, peak heap, time).
func TestWebhookAmplification(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	shapes := []struct {
		name string
		body []byte
	}{
		{"101 KB: 100 k key, 499 elements", apptest.Amplifier(100_000, 499)},
		{"1 MiB: 1 M key, 499 elements", apptest.Amplifier(1<<20-1100, 499)},
		{"1.5 KB: keys within limits, 499 elements", []byte(`{"` + strings.Repeat("A", 250) + `":` + string(apptest.Amplifier(250, 499)) + `}`)},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			require.NoError(t, env.Redis.Del(context.Background(), tenants.PortalKey(1001, "ev")).Err())
			m := measureAmplification(t, env, src.WebhookURL, 1001, s.body)
			t.Logf("body %d B → status %d, answer %d B, stored %d B, Redis +%d B, peak heap +%d B, %s; answer: %s",
				m.body, m.status, m.answer, m.stored, m.redisGrowth, m.peakHeap, m.elapsed.Round(time.Millisecond), m.answerExcerpts)
			assert.Contains(t, []int{http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity}, m.status)
			assert.LessOrEqual(t, m.answer, 4<<10, "the answer names the limit, not the body")
			assert.LessOrEqual(t, m.stored, int64(8<<10), "at most a bounded record of the refusal")
			assert.LessOrEqual(t, m.peakHeap, int64(8*m.body+(8<<20)), "the request's heap is a few times its body")
		})
	}
}

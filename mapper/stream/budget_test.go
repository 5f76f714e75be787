package stream

import (
	"context"
	"testing"
	"time"
)

// waitWaiters waits until n reservations are queued on b.
func waitWaiters(t *testing.T, b *byteBudget, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		got := len(b.waiters)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reservations waiting, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBudgetServesWaitersFirst gives the whole budget back and asks for it
// again at once, as a partition polling an idle log does: the reservation
// that was already waiting gets it, not the one that just gave it back.
func TestBudgetServesWaitersFirst(t *testing.T) {
	b := newByteBudget(100)
	if n, ok := b.reserve(context.Background(), 100); !ok || n != 100 {
		t.Fatalf("first reservation: %d, %v", n, ok)
	}
	got := make(chan int64)
	go func() {
		n, _ := b.reserve(context.Background(), 100)
		got <- n
	}()
	waitWaiters(t, b, 1)
	b.release(100)
	again, cancel := context.WithCancel(context.Background())
	cancel()
	if n, ok := b.reserve(again, 100); ok {
		t.Fatalf("a reservation passed the one waiting before it and took %d bytes", n)
	}
	if n := <-got; n != 100 {
		t.Fatalf("the waiting reservation got %d bytes, want 100", n)
	}
	if used := b.inUse(); used != 100 {
		t.Fatalf("%d bytes in use, want 100", used)
	}
}

// TestBudgetWaiterThatGivesUpPassesItsTurnOn cancels the first of two
// waiting reservations: the second is served once there is room.
func TestBudgetWaiterThatGivesUpPassesItsTurnOn(t *testing.T) {
	b := newByteBudget(10)
	b.reserve(context.Background(), 10)
	first, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan bool)
	go func() {
		_, ok := b.reserve(first, 10)
		gaveUp <- !ok
	}()
	waitWaiters(t, b, 1)
	got := make(chan int64)
	go func() {
		n, _ := b.reserve(context.Background(), 4)
		got <- n
	}()
	waitWaiters(t, b, 2)
	cancel()
	if !<-gaveUp {
		t.Fatal("the cancelled reservation was served")
	}
	b.release(6)
	select {
	case n := <-got:
		if n != 4 {
			t.Fatalf("the second reservation got %d bytes, want 4", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second reservation was never served")
	}
	if used := b.inUse(); used != 8 {
		t.Fatalf("%d bytes in use, want 8", used)
	}
}

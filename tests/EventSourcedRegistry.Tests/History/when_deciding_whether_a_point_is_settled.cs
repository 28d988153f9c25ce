using EventSourcedRegistry.History;

namespace EventSourcedRegistry.Tests.History;

/// <summary>
/// Issue 13, item 1: the rule that decides when a point in history is final. An instant is settled only once the store's
/// clock is past it (by the margin) and no transaction that began at or before it is still open; a sequence once the
/// high-water mark has reached it. Anything else waits, or is refused as the future — never answered early.
/// </summary>
public sealed class when_deciding_whether_a_point_is_settled
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 14, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(1);

    private static SettlementProbe Probe(long highWaterMark = 100, long allocated = 105, DateTimeOffset? oldestOpen = null) =>
        new(Now, highWaterMark, allocated, oldestOpen);

    [Fact]
    public void a_sequence_at_or_below_the_high_water_mark_is_settled()
    {
        Assert.Equal(Settled.Yes, Settlement.OfSequence(100, Probe()));
        Assert.Equal(Settled.Yes, Settlement.OfSequence(0, Probe(highWaterMark: 0, allocated: 0)));
    }

    [Fact]
    public void a_sequence_handed_out_but_past_the_high_water_mark_is_not_settled_yet()
    {
        Assert.Equal(Settled.NotYet, Settlement.OfSequence(101, Probe()));
        Assert.Equal(Settled.NotYet, Settlement.OfSequence(105, Probe()));
    }

    [Fact]
    public void a_sequence_no_event_has_yet_is_the_future()
    {
        Assert.Equal(Settled.Future, Settlement.OfSequence(106, Probe()));
    }

    [Fact]
    public void an_instant_the_clock_has_passed_with_no_older_open_transaction_is_settled()
    {
        Assert.Equal(Settled.Yes, Settlement.OfInstant(Now - Settlement.ClockMargin, Probe(), Skew));
        Assert.Equal(Settled.Yes, Settlement.OfInstant(Now.AddHours(-1), Probe(oldestOpen: Now.AddMinutes(-59)), Skew));
    }

    [Fact]
    public void an_instant_within_the_margin_of_the_clock_is_not_settled_yet()
    {
        Assert.Equal(Settled.NotYet, Settlement.OfInstant(Now, Probe(), Skew));
        Assert.Equal(Settled.NotYet, Settlement.OfInstant(Now - Settlement.ClockMargin + TimeSpan.FromTicks(10), Probe(), Skew));
    }

    [Fact]
    public void an_instant_a_transaction_open_since_then_or_before_could_still_write_into_is_not_settled_yet()
    {
        var instant = Now.AddSeconds(-5);
        Assert.Equal(Settled.NotYet, Settlement.OfInstant(instant, Probe(oldestOpen: instant), Skew));
        Assert.Equal(Settled.NotYet, Settlement.OfInstant(instant, Probe(oldestOpen: instant.AddMinutes(-1)), Skew));
        Assert.Equal(Settled.Yes, Settlement.OfInstant(instant, Probe(oldestOpen: instant.AddTicks(10)), Skew));
    }

    [Fact]
    public void an_instant_ahead_of_the_clock_waits_within_the_skew_allowance_and_is_the_future_beyond_it()
    {
        Assert.Equal(Settled.NotYet, Settlement.OfInstant(Now + Skew, Probe(), Skew));
        Assert.Equal(Settled.Future, Settlement.OfInstant(Now + Skew + TimeSpan.FromTicks(10), Probe(), Skew));
        Assert.Equal(Settled.Future, Settlement.OfInstant(Now.AddTicks(10), Probe(), TimeSpan.Zero));
    }

    // Two readings settle what the first saw handed out once every transaction that could hold one of those numbers ended,
    // whatever the daemon's high-water mark says (it lags under load and with many workspaces).

    private static SettlementProbe At(TimeSpan after, long highWaterMark, long allocated, TimeSpan? oldestOpenAfter = null) =>
        new(Now + after, highWaterMark, allocated, oldestOpenAfter is { } o ? Now + o : null);

    [Fact]
    public void a_later_reading_with_no_open_transaction_settles_everything_the_earlier_one_saw_handed_out()
    {
        var earlier = At(TimeSpan.Zero, highWaterMark: 10, allocated: 20);
        var later = At(Settlement.ClockMargin, highWaterMark: 10, allocated: 25);

        Assert.Equal(20, Settlement.SettledThrough(earlier, later));
        Assert.Equal(Settled.Yes, Settlement.OfSequence(20, later, Settlement.SettledThrough(earlier, later)));
        Assert.Equal(Settled.NotYet, Settlement.OfSequence(21, later, Settlement.SettledThrough(earlier, later)));
    }

    [Fact]
    public void only_transactions_begun_after_the_earlier_reading_and_its_margin_leave_it_settled()
    {
        var earlier = At(TimeSpan.Zero, highWaterMark: 10, allocated: 20);
        var newer = Settlement.ClockMargin + TimeSpan.FromTicks(1);

        Assert.Equal(20, Settlement.SettledThrough(earlier, At(TimeSpan.FromSeconds(1), 10, 30, oldestOpenAfter: newer)));
        // One that began before the earlier reading (or within the margin after it) may hold a number up to 20 uncommitted.
        Assert.Equal(10, Settlement.SettledThrough(earlier, At(TimeSpan.FromSeconds(1), 10, 30, oldestOpenAfter: -TimeSpan.FromSeconds(5))));
        Assert.Equal(10, Settlement.SettledThrough(earlier, At(TimeSpan.FromSeconds(1), 10, 30, oldestOpenAfter: Settlement.ClockMargin)));
    }

    [Fact]
    public void a_later_reading_within_the_margin_settles_nothing_new_but_the_high_water_mark_still_counts()
    {
        var earlier = At(TimeSpan.Zero, highWaterMark: 10, allocated: 20);

        Assert.Equal(10, Settlement.SettledThrough(earlier, At(Settlement.ClockMargin - TimeSpan.FromTicks(1), 10, 20)));
        Assert.Equal(18, Settlement.SettledThrough(earlier, At(TimeSpan.Zero, 18, 20, oldestOpenAfter: -TimeSpan.FromSeconds(1))));
        Assert.Equal(25, Settlement.SettledThrough(earlier, At(TimeSpan.FromSeconds(1), 25, 30, oldestOpenAfter: -TimeSpan.FromSeconds(1))));
    }
}

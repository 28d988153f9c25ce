using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Tests.Audit;

/// <summary>The audit worker's high-water rule: over stored events and dead holes, never past a hole that may still commit.</summary>
public sealed class when_advancing_a_workspace_mark
{
    [Fact]
    public void contiguous_events_move_the_mark_to_the_last_one() =>
        Assert.Equal(13, AuditMark.Advance(10, [11, 12, 13], settledThrough: 10, complete: true));

    [Fact]
    public void a_hole_not_known_dead_stops_the_mark_below_it() =>
        Assert.Equal(11, AuditMark.Advance(10, [11, 13, 14], settledThrough: 10, complete: true));

    [Fact]
    public void a_hole_at_the_start_holds_the_mark_where_it_is() =>
        Assert.Equal(10, AuditMark.Advance(10, [12], settledThrough: 10, complete: true));

    [Fact]
    public void a_dead_hole_is_passed() =>
        Assert.Equal(14, AuditMark.Advance(10, [11, 13, 14], settledThrough: 12, complete: true));

    [Fact]
    public void dead_sequences_at_the_top_move_the_mark_to_what_is_settled() =>
        Assert.Equal(15, AuditMark.Advance(10, [11], settledThrough: 15, complete: true));

    [Fact]
    public void a_read_cut_short_never_moves_the_mark_past_its_last_event() =>
        Assert.Equal(12, AuditMark.Advance(10, [11, 12], settledThrough: 20, complete: false));

    [Fact]
    public void a_live_hole_after_dead_ones_stops_the_mark_at_what_is_settled() =>
        Assert.Equal(13, AuditMark.Advance(10, [11, 16], settledThrough: 13, complete: false));

    [Fact]
    public void sequences_at_or_below_the_mark_are_ignored() =>
        Assert.Equal(10, AuditMark.Advance(10, [9, 10], settledThrough: 0, complete: true));
}

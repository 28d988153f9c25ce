namespace EventSourcedRegistry.Audit;

/// <summary>
/// How far a workspace's high-water mark may move, given the sequences stored above it: over every stored event and
/// every missing sequence known dead (at or below <c>settledThrough</c>, <see cref="History.Settlement.SettledThrough"/>),
/// up to the first missing sequence that an open transaction may still fill.
/// </summary>
public static class AuditMark
{
    /// <param name="mark">The workspace's mark now: every sequence at or below it is final.</param>
    /// <param name="stored">The workspace's stored sequences above <paramref name="mark"/>, ascending, as read.</param>
    /// <param name="settledThrough">Every sequence at or below this is committed or can never be.</param>
    /// <param name="complete">Whether <paramref name="stored"/> holds every stored sequence above the mark (the read was not cut
    /// short by its limit); only then may the mark move past the last one read.</param>
    public static long Advance(long mark, IReadOnlyList<long> stored, long settledThrough, bool complete)
    {
        foreach (var sequence in stored)
        {
            if (sequence <= mark) continue;
            // A missing sequence below this one that no known-ended transaction accounts for: it may still commit.
            if (sequence > mark + 1 && sequence - 1 > settledThrough) return Math.Max(mark, settledThrough);
            mark = sequence;
        }
        return complete ? Math.Max(mark, settledThrough) : mark;
    }
}

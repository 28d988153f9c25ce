namespace EventSourcedRegistry.Tests.Support;

public static class DecisionAssert
{
    /// <summary>The decision was accepted with exactly these events, in this order, compared as stored.</summary>
    public static void Accepted(Decision decision, params object[] expected)
    {
        Assert.False(decision.IsRejected, decision.Rejection?.Detail);
        Assert.Equal(expected.Select(e => e.GetType()), decision.Events.Select(e => e.GetType()));
        Assert.Equal(expected.Select(EventJson.Canonical), decision.Events.Select(EventJson.Canonical));
    }

    /// <summary>The single accepted event, of the given type.</summary>
    public static T Single<T>(Decision decision)
    {
        Assert.False(decision.IsRejected, decision.Rejection?.Detail);
        return Assert.IsType<T>(Assert.Single(decision.Events));
    }

    /// <summary>Accepted, with nothing to append.</summary>
    public static void Unchanged(Decision decision)
    {
        Assert.False(decision.IsRejected, decision.Rejection?.Detail);
        Assert.Empty(decision.Events);
    }

    /// <summary>Refused with this kind, no events, and a detail that names each of <paramref name="named"/>.</summary>
    public static Rejection Rejected(Decision decision, RejectionKind kind, params string[] named)
    {
        Assert.True(decision.IsRejected, "Expected a rejection, but the decision was accepted.");
        Assert.Empty(decision.Events);
        var rejection = decision.Rejection!;
        Assert.Equal(kind, rejection.Kind);
        Assert.False(string.IsNullOrWhiteSpace(rejection.Title));
        foreach (var thing in named) Assert.Contains(thing, rejection.Detail);
        return rejection;
    }
}

namespace EventSourcedRegistry;

public enum RejectionKind
{
    /// <summary>The input is malformed or breaks a shape rule (400).</summary>
    Invalid,
    /// <summary>A named model, version or alias does not exist (404).</summary>
    NotFound,
    /// <summary>A rule forbids the command in the current state (409).</summary>
    Conflict,
    /// <summary>The input is well formed but refers to something unusable (422).</summary>
    Unprocessable,
}

/// <summary>Extensions become members of the ProblemDetails beside its detail (e.g. <c>unmetGates</c>, <c>errors</c>).</summary>
public sealed record Rejection(RejectionKind Kind, string Title, string Detail,
    IReadOnlyDictionary<string, object?>? Extensions = null);

/// <summary>
/// What a decide function concluded: the events to append (possibly none, for a command that changes
/// nothing) or the reason it said no. Saying no is an expected outcome, not an exception.
/// </summary>
public sealed class Decision
{
    private Decision(IReadOnlyList<object> events, Rejection? rejection)
    {
        Events = events;
        Rejection = rejection;
    }

    public IReadOnlyList<object> Events { get; }
    public Rejection? Rejection { get; }
    public bool IsRejected => Rejection is not null;

    public static Decision Accept(params object[] events) => new(events, null);
    public static Decision Accept(IReadOnlyList<object> events) => new(events, null);
    public static Decision Unchanged { get; } = new([], null);

    public static Decision Reject(RejectionKind kind, string title, string detail,
        IReadOnlyDictionary<string, object?>? extensions = null) => new([], new Rejection(kind, title, detail, extensions));
    public static Decision NotFound(string detail) => Reject(RejectionKind.NotFound, "Not found", detail);
    public static Decision Conflict(string detail) => Reject(RejectionKind.Conflict, "Conflict with the model's state", detail);
    public static Decision Invalid(string detail) => Reject(RejectionKind.Invalid, "Invalid request", detail);
}

using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Settings;

namespace EventSourcedRegistry.Api.Settings;

/// <summary>
/// The one way a workspace's settings stream changes (its policy, its metadata standard): decided against the stream's
/// state and appended with optimistic concurrency. If-Match pins a revision (412 when stale); a change that loses a race,
/// the stream's first included, is 409 with nothing written.
/// </summary>
public static class SettingsChanges
{
    /// <summary>The settings after the change (or as they were), the revision it was decided at, or the refusal.</summary>
    public sealed record Outcome(RegistrySettings After, long DecidedAt, bool Changed, IResult? Problem);

    public static async Task<Outcome> Apply(HttpContext http, WorkspaceStore store, string? reason, Func<RegistrySettings?, Decision> decide)
    {
        var ct = http.RequestAborted;
        if (!Revisions.TryReadIfMatch(http.Request, out var expected))
            return Refused(Problems.Problem(400, "Malformed If-Match", "If-Match must carry one strong ETag as a read returned it, for example \"3\"."));

        await using var session = store.LightweightSession();
        CommandContext.For(http, reason).ApplyTo(session);
        var stream = await session.Events.FetchForWriting<RegistrySettings>(RegistrySettings.StreamId, ct);
        var revision = stream.CurrentVersion ?? 0;
        if (expected is { } pinned && pinned != revision)
            return Refused(Problems.Problem(StatusCodes.Status412PreconditionFailed, "Stale revision",
                $"If-Match names revision {pinned}, but the workspace's settings are at revision {revision}; read them again and retry."));

        var decision = decide(stream.Aggregate);
        if (decision.Rejection is { } rejection) return Refused(Problems.From(rejection));

        var after = stream.Aggregate ?? new RegistrySettings();
        foreach (var @event in decision.Events) after = RegistrySettings.Fold(after, @event);
        after.Revision = revision + decision.Events.Count;
        if (decision.Events.Count == 0) return new Outcome(after, revision, false, null);

        stream.AppendMany(decision.Events.ToArray());
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (ModelCommands.IsConcurrencyConflict(ex))
        {
            return Refused(Problems.Problem(StatusCodes.Status409Conflict, "Changed concurrently",
                "The workspace's settings were changed by a concurrent request; nothing was changed. Read them again and retry."));
        }
        return new Outcome(after, revision, true, null);
    }

    private static Outcome Refused(IResult problem) => new(null!, 0, false, problem);
}

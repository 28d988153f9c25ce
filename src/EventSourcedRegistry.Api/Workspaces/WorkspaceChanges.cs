using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Workspaces;
using Marten;

namespace EventSourcedRegistry.Api.Workspaces;

/// <summary>
/// The one way a directory event is appended: decided against the workspace's view with the directory stream locked
/// (so of two creations of one slug exactly one appends, the other decides again and sees the first), in the platform
/// tenant, with the caller's actor, correlation and reason like every command.
/// </summary>
public static class WorkspaceChanges
{
    private const int MaxAttempts = 5;

    /// <summary>An event to append, or nothing to do (null, null), or a refusal.</summary>
    public delegate (object? Event, IResult? Refusal) Decide(WorkspaceView? current);

    public sealed record Outcome(WorkspaceView? View, IResult? Refusal, bool Changed);

    public static async Task<Outcome> Append(HttpContext http, WorkspaceDirectory directory, WorkspaceId workspace, string? reason, Decide decide)
    {
        var ct = http.RequestAborted;
        var context = CommandContext.For(http, reason);
        for (var attempt = 1; ; attempt++)
        {
            await using var session = directory.Platform.LightweightSession();
            context.ApplyTo(session);
            var stream = await session.Events.FetchForExclusiveWriting<WorkspaceDirectoryHead>(WorkspaceDirectoryStream.Id, ct);
            var current = await session.LoadAsync<WorkspaceView>(workspace.Slug, ct);
            var (@event, refusal) = decide(current);
            if (refusal is not null || @event is null) return new Outcome(current, refusal, false);

            stream.AppendOne(@event);
            try
            {
                await session.SaveChangesAsync(ct);
            }
            // The directory stream's first event, raced by another node's (no row to lock yet): decide again.
            catch (Exception ex) when (attempt < MaxAttempts && ModelCommands.IsConcurrencyConflict(ex))
            {
                continue;
            }
            await using var query = directory.Platform.QuerySession();
            var after = await query.LoadAsync<WorkspaceView>(workspace.Slug, ct);
            if (after is not null) directory.Remember(after);
            return new Outcome(after, null, true);
        }
    }
}

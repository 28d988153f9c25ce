using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Approvals;

/// <summary>What the approve and reject slices share: telling an unknown request from a closed one, and the answer.</summary>
public static class TransitionRequestLookup
{
    public static string BadId(string raw) =>
        $"'{(raw.Length > 40 ? raw[..40] + "…" : raw)}' is not a request id; request ids are GUIDs as the request's Location gives them.";

    public static string NoSuchRequest(string model, Guid id) => $"Model '{model}' has no transition request {id}.";

    /// <summary>404 for a request the model never had; 409 for one that is closed (approved, rejected, superseded).</summary>
    public static async ValueTask<Decision> NotPending(ModelView model, Guid id, IDocumentSession session, CancellationToken ct)
    {
        var all = await session.LoadAsync<TransitionRequestsView>(model.Id, ct);
        return all?.Requests.Find(r => r.Id == id) is { } closed
            ? ApprovalDecisions.Closed(closed)
            : Decision.NotFound(NoSuchRequest(model.Name, id));
    }

    /// <summary>200 with the request as the command leaves it (it may have closed, so it is folded from the one before).</summary>
    public static CommandResponse After(CommandOutcome outcome, Guid id, ApprovalPolicy policy, DateTimeOffset now)
    {
        var before = outcome.Before.PendingRequests.Find(r => r.Id == id)!;
        var requests = new List<TransitionRequest> { JsonSerializer.Deserialize<TransitionRequest>(JsonSerializer.SerializeToUtf8Bytes(before))! };
        foreach (var @event in outcome.Events) TransitionRequests.Apply(requests, @event);
        return new CommandResponse(StatusCodes.Status200OK, TransitionRequestResponse.From(outcome.After.Name, requests[0], policy, now));
    }
}

using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Store;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

/// <summary>
/// A signed checkpoint as the API shows it (the shared contract <see cref="Wire.CheckpointInfo"/>); <c>message</c> is exactly the ASCII text that was signed, and names
/// <c>workspace</c> (a checkpoint signed before workspaces has the v1 text without it, and is the default workspace's).
/// </summary>
public static class CheckpointResponse
{
    public static Wire.CheckpointInfo From(AuditCheckpoint c) =>
        new(c.Id, c.Head, c.SignedAt, c.KeyId, AuditCheckpoint.Algorithm, c.Message, c.Signature, c.Workspace ?? WorkspaceId.Default.Slug);
}

public static class CreateAuditCheckpointEndpoint
{
    /// <summary>
    /// Signs the request's workspace's chain head now: 201 with the new checkpoint, 200 with the existing one when the head has
    /// not moved since, 409 when the chain does not verify or does not reach every stored event (nothing is signed),
    /// 404 while nothing is chained yet.
    /// </summary>
    [Authorize(Policy = Policies.Audit)]
    [ProducesResponseType<Wire.CheckpointInfo>(StatusCodes.Status201Created)]
    [ProducesResponseType<Wire.CheckpointInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost("/api/v1/audit/checkpoints", OperationId = "CreateAuditCheckpoint")]
    public static async Task<IResult> Post(HttpContext http, AuditCheckpoints checkpoints)
    {
        var outcome = await checkpoints.CreateAsync(http.Workspace(), http.RequestAborted);
        return outcome.Result switch
        {
            CheckpointResult.Created => Results.Json(CheckpointResponse.From(outcome.Checkpoint!), Json.Options, statusCode: StatusCodes.Status201Created),
            CheckpointResult.Existing => Results.Json(CheckpointResponse.From(outcome.Checkpoint!), Json.Options),
            CheckpointResult.NothingToSign => Problems.Problem(StatusCodes.Status404NotFound, "Nothing to sign",
                "The hash chain is empty: no event has been chained yet."),
            CheckpointResult.ChainIncomplete => Problems.Problem(StatusCodes.Status409Conflict, "The hash chain is incomplete",
                $"Not signing a checkpoint over a chain that does not reach every stored event. {outcome.Verification?.Problem}".TrimEnd()),
            _ => Problems.Problem(StatusCodes.Status409Conflict, "The hash chain does not verify",
                $"Not signing a checkpoint over a broken chain. {outcome.Verification?.Problem}".TrimEnd()),
        };
    }
}

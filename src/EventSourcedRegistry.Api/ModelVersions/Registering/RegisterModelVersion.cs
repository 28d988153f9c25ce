using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Contracts;
using EventSourcedRegistry.Metadata;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Validation;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.ModelVersions.Registering;

public static class RegisterModelVersionEndpoint
{
    public const int MaxMetadataBytes = 256 * 1024;

    public static IEnumerable<(string Field, string Error)> Check(RegisterModelVersion request)
    {
        if (request.Artifact is not { } artifact)
        {
            yield return ("artifact", "An artifact is required: {\"sha256\"} of an uploaded artifact, or an external {\"uri\", \"sha256\", \"sizeBytes\"}.");
        }
        else
        {
            if (artifact.Sha256 is null)
                yield return ("artifact.sha256", $"The artifact's sha256 is required: {Sha256Digest.AcceptedForms}.");
            else if (!Sha256Digest.TryParse(artifact.Sha256, out _, out var problem))
                yield return ("artifact.sha256", $"The artifact's sha256 {problem} Give {Sha256Digest.AcceptedForms}.");
            // Without a uri the artifact is one uploaded to the registry's own store.
            if (artifact.Uri is not null && (!IsAbsoluteUri(artifact.Uri) || artifact.Uri.Length > 2048))
                yield return ("artifact.uri", "The artifact's uri must be an absolute URI (with a scheme, e.g. s3://bucket/model.onnx) of at most 2048 characters.");
            if (artifact.SizeBytes is < 0)
                yield return ("artifact.sizeBytes", "The artifact's sizeBytes cannot be negative.");
        }

        if (request.Lineage is { } lineage)
        {
            if (InputRules.CheckText(lineage.RunId, 256, "lineage.runId") is { } e1) yield return ("lineage.runId", e1);
            if (InputRules.CheckText(lineage.SourceRepository, 2048, "lineage.sourceRepository") is { } e2) yield return ("lineage.sourceRepository", e2);
            if (InputRules.CheckText(lineage.SourceCommit, 256, "lineage.sourceCommit") is { } e3) yield return ("lineage.sourceCommit", e3);
            foreach (var (dataset, i) in (lineage.Datasets ?? []).Select((d, i) => (d, i)))
            {
                if (dataset is null || string.IsNullOrWhiteSpace(dataset.Uri))
                    yield return ($"lineage.datasets[{i}].uri", "Every dataset needs a uri.");
                else if (dataset.Uri.Length > 2048)
                    yield return ($"lineage.datasets[{i}].uri", "A dataset uri has at most 2048 characters.");
                if (dataset?.Digest is { Length: > 256 })
                    yield return ($"lineage.datasets[{i}].digest", "A dataset digest has at most 256 characters.");
            }
        }

        foreach (var error in InputRules.CheckTags(request.Params, "params")) yield return error;
        foreach (var error in InputRules.CheckTags(request.Tags, "tags")) yield return error;
        foreach (var (key, value) in request.Metrics ?? [])
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > InputRules.MaxTagKeyLength)
                yield return ("metrics", $"Metric names have 1 to {InputRules.MaxTagKeyLength} characters.");
            if (!double.IsFinite(value)) yield return ("metrics", $"Metric '{key}' is not a finite number.");
        }
        if (InputRules.CheckText(request.Description, InputRules.MaxDescriptionLength, "A description") is { } d)
            yield return ("description", d);
        if (request.Metadata is { } metadata && metadata.GetRawText().Length > MaxMetadataBytes)
            yield return ("metadata", $"Metadata is limited to {MaxMetadataBytes / 1024} KiB of JSON.");
    }

    /// <summary>
    /// An absolute URI spelled with its scheme. <see cref="Uri.TryCreate(string, UriKind, out Uri)"/> alone also takes
    /// "/path" and "//host/path" as file URIs on Unix, which are relative references to any other reader.
    /// </summary>
    private static bool IsAbsoluteUri(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && uri.StartsWith(parsed.Scheme + ":", StringComparison.OrdinalIgnoreCase);

    /// <summary>Registers the next version (latest + 1, decided on the stream's state) in one write round trip.</summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelVersionInfo>(StatusCodes.Status201Created)]
    [RequestExample("""{"artifact": {"uri": "s3://models/churn/model.onnx", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sizeBytes": 1048576}, "lineage": {"runId": "run-42", "sourceRepository": "https://git.example.com/ml/churn", "sourceCommit": "3f2c1d0"}, "params": {"learning_rate": "0.01"}, "metrics": {"auc": 0.91}}""")]
    [WolverinePost("/api/v1/models/{name}/versions", OperationId = "RegisterModelVersion")]
    // The lifecycle and the registry's metadata standard are read only in the decision: the policy is confirmed there.
    [PolicyConfirmedInCommand]
    public static async Task<IResult> Post(string name, RegisterModelVersion? request, HttpContext http, ModelCommands commands,
        Lifecycle.Lifecycle lifecycle, IArtifactStore artifacts, ArtifactAccess access, RecordLimits limits)
    {
        if (request is null) return Problems.BodyRequired("{\"artifact\", \"lineage\"?, \"params\"?, \"metrics\"?, \"tags\"?, \"description\"?, \"metadata\"?}");
        var errors = Check(request).ToList();
        errors.AddRange(limits.CheckVersion(request.Tags?.Count ?? 0, request.Params?.Count ?? 0, request.Metrics?.Count ?? 0,
            request.Lineage?.Datasets?.Count ?? 0));
        if (errors.Count > 0) return Problems.Validation(errors);

        // Stored and answered in one form, whichever the client wrote (sha256:-prefixed, upper case).
        var declared = new ArtifactReference(request.Artifact!.Uri, Sha256Digest.Parse(request.Artifact.Sha256!), request.Artifact.SizeBytes);
        // Uploaded artifacts must be in the store before their version is registered: checked once, then reused on retries.
        Decision? refusal = null;
        ArtifactReference? artifact = declared.Uri is null ? null : declared;
        var lineage = request.Lineage is { } l
            ? new Lineage(l.RunId, l.SourceRepository, l.SourceCommit,
                l.Datasets?.Select(d => new DatasetReference(d.Uri!, d.Digest)).ToList())
            : null;
        var metadata = request.Metadata is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } m ? m : (JsonElement?)null;

        return await commands.Execute(http, name, request, reason: null,
            async (model, session, ct) =>
            {
                if (artifact is null && refusal is null)
                    (artifact, refusal) = await StoredArtifact(artifacts, access, http.Workspace(), http.User, declared, ct);
                if (refusal is not null) return refusal;
                var decision = ModelDecisions.RegisterVersion(model, lifecycle, artifact!, lineage,
                    request.Params, request.Metrics, request.Tags, request.Description, metadata);
                if (decision.IsRejected) return decision;
                // The metadata standards: the model's (decided on the stream's state) and the registry's.
                var registry = await Api.Settings.WorkspacePolicies.SettingsOf(http, session, ct);
                return MetadataStandard.MetadataRefusal(model.MetadataSchema, registry?.MetadataSchema, metadata) ?? decision;
            },
            (outcome, _) =>
            {
                var registered = (ModelVersionRegistered)outcome.Events[0];
                var key = ModelVersionView.Key(registered.ModelId, registered.Version);
                var view = ModelVersionView.Fold(null, key, registered)!;
                return ValueTask.FromResult(new CommandResponse(StatusCodes.Status201Created,
                    ModelVersionResponse.From(outcome.After.Name, view),
                    ModelVersionResponse.Location(outcome.After.Name, registered.Version)));
            });
    }

    /// <summary>
    /// An uploaded artifact's reference (no uri, its stored size), or the 422 when the store does not hold it. A digest
    /// the caller may not read (see <see cref="ArtifactAccess"/>) gets the same 422, word for word, before the store is
    /// asked: registering a version on it would make its bytes readable through this model.
    /// </summary>
    private static async Task<(ArtifactReference?, Decision?)> StoredArtifact(IArtifactStore artifacts, ArtifactAccess access, WorkspaceId workspace,
        System.Security.Claims.ClaimsPrincipal caller, ArtifactReference declared, CancellationToken ct)
    {
        var sha256 = declared.Sha256.ToLowerInvariant();
        var stored = await access.MayRead(workspace, caller, sha256, ct) ? await artifacts.GetInfoAsync(sha256, ct) : null;
        if (stored is null)
            return (null, Decision.Reject(RejectionKind.Unprocessable, "Artifact not stored",
                $"No artifact with SHA-256 {sha256} is available to this caller; upload it to /api/v1/artifacts first, or give an external uri."));
        if (declared.SizeBytes is { } size && size != stored.SizeBytes)
            return (null, Decision.Reject(RejectionKind.Unprocessable, "Artifact size mismatch",
                $"The stored artifact {sha256} has {stored.SizeBytes} bytes, not the declared {size}."));
        return (new ArtifactReference(null, sha256, stored.SizeBytes), null);
    }
}

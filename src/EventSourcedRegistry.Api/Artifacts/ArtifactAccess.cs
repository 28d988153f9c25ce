using System.Security.Claims;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Artifacts;

/// <summary>
/// Who may read which stored artifact. Artifacts are reached through models: a caller may read a digest when it holds
/// a reader role (or one that implies it) registry-wide, when a version of a model it may read was registered on that
/// uploaded artifact, or when it uploaded those bytes itself. A version with an external <c>uri</c> only declares a
/// digest, without proof that its registrant held the bytes, so it opens nothing in the store. Everything else is
/// answered exactly as a digest that is not stored.
/// </summary>
public sealed class ArtifactAccess(IDocumentStore documents, TimeProvider time)
{
    public async Task<bool> MayRead(WorkspaceId workspace, ClaimsPrincipal user, string sha256, CancellationToken ct)
    {
        ArtifactDigest.Require(sha256);
        var grants = AccessClaims.GrantsOf(user).Where(g => Roles.Implies(g.Role, Roles.Reader)).ToList();
        if (grants.Any(g => g.RegistryWide)) return true;

        await using var session = new WorkspaceStore(documents, workspace).QuerySession();
        if (Callers.Of(user) is { } caller && await session.LoadAsync<ArtifactUpload>(ArtifactUpload.IdOf(sha256, caller), ct) is not null)
            return true;

        // Model grants: a key's holds the model's id, a token's the name of the model that holds it now.
        var models = grants.Where(g => g.ModelId is not null).Select(g => g.ModelId!.Value).ToList();
        var names = grants.Where(g => g.ModelName is not null).Select(g => g.ModelName!).Distinct().ToArray();
        if (names.Length > 0)
            models.AddRange(await session.Query<ModelNameIndex>().Where(i => i.Id.IsOneOf(names)).Select(i => i.ModelId).ToListAsync(ct));
        if (models.Count == 0) return false;
        var ids = models.Distinct().ToArray();
        return await session.Query<ModelVersionView>()
            .AnyAsync(v => v.Artifact.Sha256 == sha256 && v.Artifact.Uri == null && v.ModelId.IsOneOf(ids), ct);
    }

    /// <summary>Records that the caller uploaded these bytes (again), so it may read them back and register them.</summary>
    public async Task RecordUpload(WorkspaceId workspace, ClaimsPrincipal user, string sha256, CancellationToken ct)
    {
        if (Callers.Of(user) is not { } caller) return;
        await using var session = new WorkspaceStore(documents, workspace).LightweightSession();
        session.Store(new ArtifactUpload { Id = ArtifactUpload.IdOf(sha256, caller), Sha256 = sha256, Caller = caller, UploadedAt = time.GetUtcNow() });
        await session.SaveChangesAsync(ct);
    }

    /// <summary>Forgets every upload of artifacts that were deleted.</summary>
    public async Task ForgetUploads(WorkspaceId workspace, IReadOnlyCollection<string> sha256s, CancellationToken ct)
    {
        if (sha256s.Count == 0) return;
        var digests = sha256s.ToArray();
        await using var session = new WorkspaceStore(documents, workspace).LightweightSession();
        session.DeleteWhere<ArtifactUpload>(u => u.Sha256.IsOneOf(digests));
        await session.SaveChangesAsync(ct);
    }
}

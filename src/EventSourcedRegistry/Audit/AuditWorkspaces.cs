using EventSourcedRegistry.Store;
using Marten;
using Marten.Storage;

namespace EventSourcedRegistry.Audit;

/// <summary>The workspaces whose chains the registry keeps: every tenant with an event partition, the platform's included.</summary>
public static class AuditWorkspaces
{
    /// <summary>
    /// Every registered tenant, read fresh from Marten's partition registry (another node may have added one a moment
    /// ago), in a stable order. A tenant that is not a workspace slug nor the platform is left out.
    /// </summary>
    public static async Task<IReadOnlyList<WorkspaceId>> AllAsync(IDocumentStore store, CancellationToken ct)
    {
        var tenants = store.Storage.Database is MartenDatabase database
            ? await database.FetchManagedTenantIdsAsync(ct)
            : [];
        return tenants.Select(WorkspaceId.FromTenantId).OfType<WorkspaceId>().ToList();
    }

}

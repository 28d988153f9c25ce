using System.Xml.Linq;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// The Data Protection key ring (what encrypts the console's session and antiforgery cookies) in PostgreSQL, the one
/// place every node of a deployment already reads: a session signed in on one node is accepted by every other, and
/// survives a restart. ASP.NET Core ships repositories for the file system, the registry and Redis/EF Core but none over
/// plain Npgsql, and a Marten document would make the key ring a tenant's data; hence this small table. The keys are
/// the platform's, so their rows carry the platform tenant. The key ring is read once per refresh (a day by default, or
/// when an unknown key id is met), so the synchronous calls the interface demands cost nothing per request.
/// </summary>
public sealed class DataProtectionKeys(NpgsqlDataSource data, ConsoleTables tables) : IXmlRepository
{
    public const string Table = RegistryStore.Schema + ".data_protection_keys";

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        tables.Ensure();
        using var command = data.CreateCommand($"select xml from {Table} where tenant_id = $1 order by created_at, friendly_name");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read()) elements.Add(XElement.Parse(reader.GetString(0)));
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        tables.Ensure();
        // A key is written once and never changed (revoking one stores a new revocation element under its own name).
        using var command = data.CreateCommand($"insert into {Table} (tenant_id, friendly_name, xml) values ($1, $2, $3) on conflict do nothing");
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Platform.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = friendlyName });
        command.Parameters.Add(new NpgsqlParameter { Value = element.ToString(SaveOptions.DisableFormatting) });
        command.ExecuteNonQuery();
    }
}

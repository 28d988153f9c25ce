using System.Reflection;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.Api.Tests.Contracts;

/// <summary>
/// The client package depends on the contracts package, so the contracts carry nothing of the server (Marten, ASP.NET Core,
/// Wolverine, the domain), and the client keeps no wire records of its own: a hand copy is how the records drifted.
/// </summary>
public sealed class when_the_client_package_ships_the_contracts
{
    [Fact]
    public void the_contracts_reference_the_framework_alone()
    {
        var beyond = typeof(WireJson).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(name => !name.StartsWith("System", StringComparison.Ordinal) && name is not ("netstandard" or "mscorlib"))
            .ToList();
        Assert.True(beyond.Count == 0, "EventSourcedRegistry.Contracts references " + string.Join(", ", beyond));
    }

    [Fact]
    public void the_client_references_the_contracts_and_the_framework_alone()
    {
        var beyond = typeof(RegistryClient).Assembly.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(name => !name.StartsWith("System", StringComparison.Ordinal) && name is not ("netstandard" or "mscorlib" or "EventSourcedRegistry.Contracts"))
            .ToList();
        Assert.True(beyond.Count == 0, "EventSourcedRegistry.Client references " + string.Join(", ", beyond));
    }

    [Fact]
    public void the_client_declares_no_wire_record_of_its_own()
    {
        // Its calls, their options and parameter objects (turned into query strings or a request record), its exceptions.
        string[] own =
        [
            nameof(RegistryClient), nameof(RegistryClientOptions), nameof(PointInTime), nameof(ModelQuery), nameof(AuditQuery), nameof(RollbackRequest),
            nameof(RegistryRequestException), nameof(ApprovalRequiredException), nameof(ArtifactDigestMismatchException),
        ];
        var others = typeof(RegistryClient).Assembly.GetExportedTypes().Select(t => t.Name).Except(own).ToList();
        Assert.True(others.Count == 0, "The client declares public types beyond its own (wire records belong in EventSourcedRegistry.Contracts): "
            + string.Join(", ", others));
    }
}

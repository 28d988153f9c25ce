using System.Net;
using System.Net.Sockets;

namespace EventSourcedRegistry.Testing;

/// <summary>
/// What the test projects that start real processes (the API as a process, Azurite) share; compiled into each of them
/// as a linked file.
/// </summary>
internal static class LocalProcesses
{
    /// <summary>The API's own build output (it has its runtimeconfig and deps), in the configuration the tests were built in.</summary>
    public static string ApiAssembly()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory);
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EventSourcedRegistry.sln"))) root = root.Parent;
        return Path.Combine(root!.FullName, "src", "EventSourcedRegistry.Api", "bin", testBin.Parent!.Name, testBin.Name, "EventSourcedRegistry.Api.dll");
    }

    /// <summary>A loopback port free at the moment of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

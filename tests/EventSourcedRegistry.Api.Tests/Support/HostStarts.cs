namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// Program reads <c>ConnectionStrings__Registry</c> from the process environment before it builds a host (without one it
/// starts an embedded cluster), so a test host is pointed at its database through that variable. The API tests run in
/// two collections at once (<see cref="AppCollection"/> and <see cref="SecondAppCollection"/>), each on a cluster of its
/// own: every host start sets the variable under this lock, so two starts never read each other's database.
/// </summary>
public static class HostStarts
{
    public const string Variable = "ConnectionStrings__Registry";

    private static readonly SemaphoreSlim Starting = new(1, 1);

    /// <summary>Starts a host on <paramref name="connectionString"/>; the variable is put back as it was when <paramref name="keep"/> is false.</summary>
    public static async Task<T> On<T>(string connectionString, Func<Task<T>> start, bool keep = false)
    {
        await Starting.WaitAsync();
        var before = Environment.GetEnvironmentVariable(Variable);
        Environment.SetEnvironmentVariable(Variable, connectionString);
        try
        {
            return await start();
        }
        finally
        {
            if (!keep) Environment.SetEnvironmentVariable(Variable, before);
            Starting.Release();
        }
    }
}

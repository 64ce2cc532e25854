using System;
using System.Diagnostics;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>Runs a helper program for test set-up and fails loudly when it fails.</summary>
    internal static class Shell
    {
        public static string Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(" ", args)} failed ({p.ExitCode}): {stderr.Result}{stdout}");
            return stdout;
        }
    }
}

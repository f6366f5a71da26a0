"""The text of ``Function.profile()``: where a compiled function's build and run time went."""

from __future__ import annotations

from symkeras.graph import provenance

#: at most this many nodes are listed (the rest summed in one line)
TOP = 25


def _compile_line(stats: dict) -> str:
    seconds = stats.get("compile_seconds")
    done = stats.get("compile") or {}
    if seconds is None:
        if done.get("background"):
            return (f"compile: in the background ({done['pending']} functions, {done['helpers']} helper processes);"
                    f" {stats.get('reference_calls', 0)} calls ran on the reference evaluator so far")
        return "compile: not yet (the first call compiles)"
    kernels = stats.get("kernels")
    pending = done.get("pending", 0)
    if not pending:
        cached = "all from the cache"
    elif pending == kernels + 1:
        cached = "all compiled (cold cache)"
    else:
        cached = f"{pending} compiled, the rest from the cache"
    interim = (f"; {stats['reference_calls']} calls ran on the reference evaluator meanwhile"
               if stats.get("reference_calls") else "")
    return f"compile: {seconds:.3f} s ({kernels} kernel modules and the step: {cached}{interim})"


def format_profile(fn) -> str:
    """The report of Function ``fn`` (see Function.profile)."""
    program = fn.program
    lines = [f"Function '{fn.name}' on the {fn.backend.name} backend"]
    build = [f"rewrites {fn.rewrite_seconds:.3f} s"]
    if "generate_seconds" in program.stats:
        build.append(f"code generation {program.stats['generate_seconds']:.3f} s")
    lines.append("build: " + ", ".join(build) + "; " + _compile_line(program.stats))
    lines.append("rewrite passes:")
    for record in fn.optimized.records:
        lines.append(f"  {record.seconds * 1000:8.2f} ms  {record}")
    seconds = program.node_seconds()
    if not fn.profiling or seconds is None:
        lines.append("run: not measured (make the function with profile=True, or set SYMKERAS_PROFILE=1)")
        return "\n".join(lines)
    calls = max(fn.calls, 1)
    lines.append(f"run: {fn.calls} calls, {fn.call_seconds:.3f} s ({fn.call_seconds / calls * 1000:.3f} ms a call; "
                 f"nodes {sum(seconds) / calls * 1000:.3f} ms a call, the rest is argument checks and calls)")
    nodes = fn.optimized.graph.nodes
    total = sum(seconds) or 1.0
    order = sorted(range(len(nodes)), key=lambda i: -seconds[i])
    lines.append("      %   total ms    ms/call  node (run order) op <layer>")
    for i in order[:TOP]:
        layer = provenance.of(nodes[i])
        where = f" <{layer}>" if layer else ""
        lines.append(f"  {seconds[i] / total * 100:5.1f}  {seconds[i] * 1000:9.3f}  {seconds[i] / calls * 1000:9.4f}  "
                     f"#{i + 1} {nodes[i].op}{where}")
    if len(order) > TOP:
        rest = sum(seconds[i] for i in order[TOP:])
        lines.append(f"  {rest / total * 100:5.1f}  {rest * 1000:9.3f}  {rest / calls * 1000:9.4f}  "
                     f"{len(order) - TOP} more nodes")
    return "\n".join(lines)

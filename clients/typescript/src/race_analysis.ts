// node dist/race_analysis.js YEAR ROUND [DRIVER DRIVER]: one race's analysis (the
// RaceAnalysis operation): the winner, the pit stops, the safety car periods and two
// drivers' fastest laps compared. PYPOLE_URL: the GraphQL endpoint.
import { GraphQLRequestError, request } from "./client.js";
import { RaceAnalysisDocument } from "./generated/graphql.js";

const url = process.env.PYPOLE_URL ?? "http://127.0.0.1:8000/graphql";
const year = Number(process.argv[2] ?? "2018");
const round = Number(process.argv[3] ?? "4");
const drivers = [process.argv[4] ?? "HAM", process.argv[5] ?? "BOT"];

async function main(): Promise<void> {
  const { race } = await request({ url }, RaceAnalysisDocument, {
    year,
    round,
    type: "R",
    drivers,
    maxPoints: 200,
  });
  const session = race?.session ?? null;
  if (race === null || session === null) {
    console.log(`${year} round ${round}: no such race`);
    return;
  }
  const winner = session.results.find((r) => r.position === 1);
  console.log(`${race.name}: won by ${winner?.driver ?? "-"}`);
  const joined = session.pitStops.filter((s) => s.jolpicaDuration !== null).length;
  console.log(`pit stops: ${session.pitStops.length} (${joined} with Jolpica's duration)`);
  console.log(`Jolpica pit stops: ${race.pitStops.length}`);
  const safetyCar = session.trackStatus.filter((t) => t.status === "4").length;
  console.log(`safety car deployments: ${safetyCar}`);
  const comparison = session.compare;
  const other = comparison?.laps[1];
  const delta = other?.delta[other.delta.length - 1];
  if (other !== undefined && delta !== undefined) {
    const sign = delta >= 0 ? "+" : "";
    console.log(`${other.driver} vs ${drivers[0]}: ${sign}${delta.toFixed(3)} s at the finish`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof GraphQLRequestError) {
    console.error(`pypole: ${error.code ?? "ERROR"}: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});

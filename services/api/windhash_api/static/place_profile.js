// windhash dashboard: the head of a farm's or a lead party's page: what it is, where, and where it ranks.
import * as fmt from "./format.js";
import { pageLink } from "./ranking_tables.js";
import { link } from "./view_state.js";

const $ = (id) => document.getElementById(id);

function position(farm) {
  if (!farm || farm.latitude === null) return "position unknown";
  const lat = `${Math.abs(farm.latitude).toFixed(1)}°${farm.latitude >= 0 ? "N" : "S"}`;
  const lon = `${Math.abs(farm.longitude).toFixed(1)}°${farm.longitude >= 0 ? "E" : "W"}`;
  return `about ${lat} ${lon} (${farm.location})`;
}

// refs: {units: Map code -> registry row, farms: Map code -> farm-locations row, parties: Map name -> row}
export function showProfile(kind, standing, refs) {
  const section = $("place-profile");
  section.hidden = kind === "all";
  $("profile-home").href = link({ party: "", farm: "" });
  if (kind === "all") return;
  const facts = $("profile-facts");
  if (kind === "farm") {
    const code = standing.bm_unit;
    const unit = refs.units.get(code);
    const farm = refs.farms.get(code);
    const party = standing.lead_party_name ?? unit?.lead_party_name;
    $("profile-kind").textContent = "Farm";
    $("profile-title").textContent = `${farm?.farm_name ?? unit?.bm_unit_name ?? code} (${code})`;
    const capacity = unit?.generation_capacity_mw ?? farm?.capacity_mw;
    facts.replaceChildren("Lead party: ", party ? pageLink(link({ party, farm: "" }), party) : fmt.missing,
      ` · capacity ${capacity === null || capacity === undefined ? fmt.missing : `${fmt.plain(capacity, 1)} MW`}`,
      ` · ${position(farm)}`);
    $("profile-rank").textContent = standing.rank === null
      ? "Not curtailed in this span."
      : `Ranked #${standing.rank} of ${standing.units_ranked} farms curtailed in this span (by energy)` +
        ` · #${standing.rank_in_lead_party} of ${standing.units_in_lead_party} in its lead party` +
        ` · curtailed on ${standing.days_curtailed} day(s)`;
  } else {
    const party = refs.parties.get(standing.lead_party_name);
    $("profile-kind").textContent = "Lead party";
    $("profile-title").textContent = standing.lead_party_name;
    facts.textContent = party
      ? `${party.bm_units} registered wind BM unit(s), ${fmt.plain(party.generation_capacity_mw ?? 0, 0)} MW`
      : "Not in the BM unit registry";
    $("profile-rank").textContent = standing.rank === null
      ? "Not curtailed in this span."
      : `Ranked #${standing.rank} of ${standing.parties_ranked} lead parties curtailed in this span (by energy)` +
        ` · ${standing.bm_units_curtailed} of its farms curtailed`;
  }
}

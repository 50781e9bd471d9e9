"""Static geography of the synthetic Legal Amazon: outline, states, towns, roads, rivers, biomes, cells.

Shapes are hand-drawn approximations of the real ones (lon/lat degrees, WGS84); municipality codes are the
real IBGE codes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from geih.domain.grid import WGS84, Grid, cells_in_boundary, distance_to_features_km

# Legal Amazon outline (lon, lat): AC, AM, RR, AP, PA, RO, MT, TO and MA west of 44°W.
BOUNDARY_LONLAT: tuple[tuple[float, float], ...] = (
    (-69.95, -4.22), (-69.40, -1.10), (-69.60, -0.20), (-70.05, 0.60), (-69.80, 1.10), (-67.40, 1.75),
    (-66.85, 1.22), (-66.30, 0.80), (-65.50, 0.95), (-64.40, 1.40), (-64.00, 2.10), (-64.30, 2.45),
    (-64.00, 3.90), (-62.80, 4.00), (-61.30, 4.50), (-60.70, 5.20), (-60.10, 5.00), (-59.60, 4.00),
    (-59.90, 2.60), (-59.70, 1.80), (-58.80, 1.20), (-57.00, 1.90), (-55.90, 2.20), (-54.60, 2.30),
    (-52.95, 2.15), (-51.65, 4.35), (-50.85, 2.50), (-49.90, 1.70), (-49.30, 0.30), (-48.90, -0.10),
    (-48.30, -0.40), (-47.20, -0.65), (-46.10, -1.00), (-45.30, -1.25), (-44.60, -1.90), (-44.00, -2.30),
    (-44.00, -6.90), (-44.90, -7.50), (-45.60, -8.50), (-45.90, -10.20), (-46.40, -11.00), (-46.10, -12.20),
    (-46.30, -13.00), (-47.50, -12.80), (-49.00, -13.20), (-50.40, -13.00), (-50.80, -14.20), (-51.50, -15.20),
    (-52.10, -15.90), (-52.80, -17.00), (-53.10, -18.04), (-55.00, -17.90), (-56.50, -17.60), (-57.90, -17.40),
    (-58.40, -16.30), (-60.20, -16.25), (-60.25, -15.10), (-60.50, -13.80), (-61.80, -13.55), (-62.80, -13.10),
    (-64.30, -12.50), (-65.00, -11.90), (-65.35, -10.80), (-65.40, -9.80), (-66.60, -9.70), (-67.60, -10.30),
    (-68.50, -10.70), (-69.57, -10.95), (-70.50, -11.00), (-70.60, -9.60), (-72.20, -10.00), (-73.20, -9.30),
    (-73.70, -8.40), (-74.00, -7.40), (-73.70, -6.90), (-72.90, -5.20),
)

# UF -> (IBGE code, name, upper-case name as in BDQueimadas, Voronoi seeds (lon, lat)).
STATES: dict[str, tuple[int, str, str, tuple[tuple[float, float], ...]]] = {
    "AC": (12, "Acre", "ACRE", ((-70.5, -9.2), (-72.5, -8.4), (-69.0, -9.6), (-67.9, -10.4))),
    "AM": (13, "Amazonas", "AMAZONAS", ((-64.5, -4.5), (-68.5, -5.5), (-61.0, -3.5), (-66.5, -1.0),
                                        (-62.0, -6.8), (-58.8, -4.5), (-63.5, -0.5), (-69.0, -2.0),
                                        (-65.2, -7.6), (-67.6, -8.2), (-71.0, -6.2), (-57.8, -2.8))),
    "RR": (14, "Roraima", "RORAIMA", ((-61.0, 2.8), (-60.5, 0.8), (-62.5, 3.6))),
    "AP": (16, "Amapá", "AMAPÁ", ((-51.7, 1.5), (-51.8, 3.2), (-52.0, 0.0))),
    "PA": (15, "Pará", "PARÁ", ((-52.5, -3.5), (-55.0, -6.5), (-48.3, -3.0), (-49.7, -5.0), (-51.0, -7.8),
                                (-54.8, -2.0), (-55.5, 0.8), (-53.6, -1.0), (-56.8, -6.5), (-56.0, -4.6),
                                (-50.3, -1.3))),
    "MA": (21, "Maranhão", "MARANHÃO", ((-45.8, -3.6), (-46.8, -5.3), (-45.6, -7.5), (-45.7, -9.0))),
    "TO": (17, "Tocantins", "TOCANTINS", ((-48.6, -10.5), (-48.4, -7.8), (-47.6, -12.2))),
    "MT": (51, "Mato Grosso", "MATO GROSSO", ((-55.5, -12.5), (-58.5, -11.0), (-54.5, -15.5), (-52.0, -12.0),
                                              (-57.5, -15.5), (-56.5, -10.2))),
    "RO": (11, "Rondônia", "RONDÔNIA", ((-63.0, -10.5), (-62.8, -9.3), (-61.5, -12.2))),
}

# Municipality seats: upper-case name (BDQueimadas spelling), name, UF, IBGE code, lat, lon, population.
MUNICIPALITIES: tuple[tuple[str, str, str, int, float, float, int], ...] = (
    ("MANAUS", "Manaus", "AM", 1302603, -3.10, -60.02, 2063000),
    ("MAUÉS", "Maués", "AM", 1302900, -3.38, -57.72, 61000),
    ("LÁBREA", "Lábrea", "AM", 1302405, -7.26, -64.80, 45000),
    ("APUÍ", "Apuí", "AM", 1300144, -7.19, -59.89, 21000),
    ("HUMAITÁ", "Humaitá", "AM", 1301704, -7.51, -63.02, 57000),
    ("MANICORÉ", "Manicoré", "AM", 1302702, -5.81, -61.30, 53000),
    ("NOVO ARIPUANÃ", "Novo Aripuanã", "AM", 1303304, -5.12, -60.38, 26000),
    ("TEFÉ", "Tefé", "AM", 1304203, -3.35, -64.71, 73000),
    ("COARI", "Coari", "AM", 1301209, -4.08, -63.14, 70000),
    ("BARCELOS", "Barcelos", "AM", 1300409, -0.97, -62.93, 18000),
    ("SÃO GABRIEL DA CACHOEIRA", "São Gabriel da Cachoeira", "AM", 1303809, -0.13, -67.09, 51000),
    ("TABATINGA", "Tabatinga", "AM", 1304062, -4.25, -69.94, 66000),
    ("EIRUNEPÉ", "Eirunepé", "AM", 1301407, -6.66, -69.87, 30000),
    ("BOCA DO ACRE", "Boca do Acre", "AM", 1300706, -8.75, -67.40, 35000),
    ("PARINTINS", "Parintins", "AM", 1303403, -2.63, -56.74, 96000),
    ("ALTAMIRA", "Altamira", "PA", 1500602, -3.20, -52.21, 126000),
    ("SÃO FÉLIX DO XINGU", "São Félix do Xingu", "PA", 1507300, -6.64, -51.99, 65000),
    ("NOVO PROGRESSO", "Novo Progresso", "PA", 1505031, -7.14, -55.38, 26000),
    ("MARABÁ", "Marabá", "PA", 1504208, -5.37, -49.12, 266000),
    ("SANTARÉM", "Santarém", "PA", 1506807, -2.44, -54.71, 331000),
    ("ITAITUBA", "Itaituba", "PA", 1503606, -4.28, -55.98, 123000),
    ("PARAGOMINAS", "Paragominas", "PA", 1505502, -3.00, -47.35, 105000),
    ("PACAJÁ", "Pacajá", "PA", 1505486, -3.84, -50.64, 40000),
    ("NOVO REPARTIMENTO", "Novo Repartimento", "PA", 1505064, -4.25, -49.95, 60000),
    ("JACAREACANGA", "Jacareacanga", "PA", 1503754, -6.22, -57.75, 24000),
    ("URUARÁ", "Uruará", "PA", 1508159, -3.72, -53.74, 45000),
    ("REDENÇÃO", "Redenção", "PA", 1506138, -8.03, -50.03, 85000),
    ("ALMEIRIM", "Almeirim", "PA", 1500503, -1.52, -52.58, 34000),
    ("PORTEL", "Portel", "PA", 1505809, -1.94, -50.82, 62000),
    ("BREVES", "Breves", "PA", 1501808, -1.68, -50.48, 106000),
    ("TUCURUÍ", "Tucuruí", "PA", 1508100, -3.77, -49.67, 91000),
    ("BELÉM", "Belém", "PA", 1501402, -1.46, -48.50, 1303000),
    ("SINOP", "Sinop", "MT", 5107909, -11.86, -55.50, 196000),
    ("COLNIZA", "Colniza", "MT", 5103254, -9.46, -59.23, 27000),
    ("CUIABÁ", "Cuiabá", "MT", 5103403, -15.60, -56.10, 650000),
    ("ALTA FLORESTA", "Alta Floresta", "MT", 5100250, -9.88, -56.09, 58000),
    ("JUÍNA", "Juína", "MT", 5105150, -11.38, -58.74, 39000),
    ("SORRISO", "Sorriso", "MT", 5107925, -12.55, -55.71, 110000),
    ("QUERÊNCIA", "Querência", "MT", 5107065, -12.60, -52.18, 17000),
    ("SÃO FÉLIX DO ARAGUAIA", "São Félix do Araguaia", "MT", 5107859, -11.62, -50.67, 10000),
    ("ARIPUANÃ", "Aripuanã", "MT", 5101407, -10.17, -59.46, 24000),
    ("COTRIGUAÇU", "Cotriguaçu", "MT", 5103379, -9.86, -58.42, 14000),
    ("PEIXOTO DE AZEVEDO", "Peixoto de Azevedo", "MT", 5106422, -10.22, -54.98, 33000),
    ("BARRA DO GARÇAS", "Barra do Garças", "MT", 5101803, -15.89, -52.26, 69000),
    ("CÁCERES", "Cáceres", "MT", 5102504, -16.07, -57.68, 89000),
    ("RONDONÓPOLIS", "Rondonópolis", "MT", 5107602, -16.47, -54.64, 244000),
    ("TANGARÁ DA SERRA", "Tangará da Serra", "MT", 5107958, -14.62, -57.49, 106000),
    ("ÁGUA BOA", "Água Boa", "MT", 5100201, -14.05, -52.16, 27000),
    ("PORTO VELHO", "Porto Velho", "RO", 1100205, -8.76, -63.90, 460000),
    ("JI-PARANÁ", "Ji-Paraná", "RO", 1100122, -10.88, -61.95, 124000),
    ("ARIQUEMES", "Ariquemes", "RO", 1100023, -9.91, -63.04, 96000),
    ("VILHENA", "Vilhena", "RO", 1100304, -12.74, -60.15, 95000),
    ("GUAJARÁ-MIRIM", "Guajará-Mirim", "RO", 1100106, -10.78, -65.34, 39000),
    ("CACOAL", "Cacoal", "RO", 1100049, -11.44, -61.45, 86000),
    ("RIO BRANCO", "Rio Branco", "AC", 1200401, -9.97, -67.81, 364000),
    ("CRUZEIRO DO SUL", "Cruzeiro do Sul", "AC", 1200203, -7.63, -72.67, 91000),
    ("FEIJÓ", "Feijó", "AC", 1200302, -8.16, -70.35, 34000),
    ("TARAUACÁ", "Tarauacá", "AC", 1200609, -8.16, -70.77, 43000),
    ("SENA MADUREIRA", "Sena Madureira", "AC", 1200500, -9.07, -68.66, 41000),
    ("BOA VISTA", "Boa Vista", "RR", 1400100, 2.82, -60.67, 413000),
    ("CARACARAÍ", "Caracaraí", "RR", 1400209, 1.82, -61.13, 22000),
    ("RORAINÓPOLIS", "Rorainópolis", "RR", 1400472, 0.94, -60.43, 31000),
    ("MACAPÁ", "Macapá", "AP", 1600303, 0.03, -51.07, 442000),
    ("OIAPOQUE", "Oiapoque", "AP", 1600501, 3.84, -51.83, 27000),
    ("LARANJAL DO JARI", "Laranjal do Jari", "AP", 1600279, -0.80, -52.45, 35000),
    ("PALMAS", "Palmas", "TO", 1721000, -10.18, -48.33, 302000),
    ("ARAGUAÍNA", "Araguaína", "TO", 1702109, -7.19, -48.21, 171000),
    ("GURUPI", "Gurupi", "TO", 1709500, -11.73, -49.07, 85000),
    ("FORMOSO DO ARAGUAIA", "Formoso do Araguaia", "TO", 1708205, -11.80, -49.53, 17000),
    ("IMPERATRIZ", "Imperatriz", "MA", 2105302, -5.52, -47.48, 273000),
    ("AÇAILÂNDIA", "Açailândia", "MA", 2100055, -4.95, -47.50, 106000),
    ("GRAJAÚ", "Grajaú", "MA", 2104800, -5.82, -46.14, 73000),
    ("BALSAS", "Balsas", "MA", 2101400, -7.53, -46.04, 95000),
    ("BARRA DO CORDA", "Barra do Corda", "MA", 2101608, -5.50, -45.25, 84000),
    ("SÃO LUÍS", "São Luís", "MA", 2111300, -2.53, -44.30, 1037000),
)

# Trunk roads (lon, lat), drawn through the towns they serve.
TRUNK_ROADS: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    ("BR-163 Cuiabá–Santarém", ((-56.10, -15.60), (-55.90, -14.00), (-55.71, -12.55), (-55.50, -11.86),
                                (-55.10, -10.40), (-55.20, -8.80), (-55.38, -7.14), (-55.90, -5.60),
                                (-55.30, -4.40), (-54.95, -3.30), (-54.71, -2.44))),
    ("BR-230 Transamazônica", ((-47.45, -6.55), (-48.30, -6.10), (-49.12, -5.37), (-49.95, -4.25),
                               (-50.64, -3.84), (-52.21, -3.20), (-53.74, -3.72), (-54.90, -4.10),
                               (-55.98, -4.28), (-57.00, -5.30), (-57.75, -6.22), (-59.89, -7.19),
                               (-61.50, -7.50), (-63.02, -7.51), (-64.80, -7.26))),
    ("BR-364", ((-56.10, -15.60), (-57.49, -14.62), (-59.30, -14.10), (-60.15, -12.74), (-61.45, -11.44),
                (-61.95, -10.88), (-63.04, -9.91), (-63.90, -8.76), (-65.20, -9.50), (-66.60, -9.90),
                (-67.81, -9.97), (-68.66, -9.07), (-70.35, -8.16), (-70.77, -8.16), (-72.67, -7.63))),
    ("BR-319 Porto Velho–Manaus", ((-63.90, -8.76), (-63.02, -7.51), (-62.10, -5.70), (-61.20, -4.40),
                                   (-60.02, -3.10))),
    ("BR-010 Belém–Brasília", ((-48.50, -1.46), (-47.90, -2.20), (-47.35, -3.00), (-47.50, -4.95),
                               (-47.48, -5.52), (-48.21, -7.19), (-48.40, -8.80), (-48.33, -10.18),
                               (-49.07, -11.73), (-49.20, -12.90))),
    ("BR-158", ((-49.12, -5.37), (-49.60, -6.70), (-50.03, -8.03), (-50.40, -9.60), (-50.67, -11.62),
                (-51.60, -13.20), (-52.16, -14.05), (-52.26, -15.89))),
    ("PA-279 Xinguara–São Félix do Xingu", ((-49.70, -7.10), (-50.60, -6.80), (-51.99, -6.64))),
    ("BR-174 Manaus–Boa Vista", ((-60.02, -3.10), (-60.20, -1.50), (-60.43, 0.94), (-61.13, 1.82),
                                 (-60.67, 2.82), (-61.00, 4.20))),
    ("BR-156 Macapá–Oiapoque", ((-51.07, 0.03), (-51.20, 1.20), (-51.10, 2.50), (-51.83, 3.84))),
)

# Main rivers (lon, lat) with the half-width (degrees) that land-cover pixels inherit as water.
RIVERS: tuple[tuple[str, float, tuple[tuple[float, float], ...]], ...] = (
    ("Solimões-Amazonas", 0.07, ((-69.90, -4.30), (-67.50, -3.40), (-64.70, -3.30), (-63.10, -4.00),
                                 (-61.50, -3.50), (-60.00, -3.20), (-58.50, -3.30), (-56.70, -2.60),
                                 (-54.70, -2.40), (-52.50, -1.70), (-51.00, -0.80), (-50.00, -0.20),
                                 (-49.20, 0.30))),
    ("Negro", 0.05, ((-67.10, 1.10), (-67.09, -0.13), (-65.00, -0.30), (-62.93, -0.97), (-61.20, -2.20),
                     (-60.00, -3.10))),
    ("Madeira", 0.05, ((-65.30, -10.70), (-65.30, -9.80), (-63.90, -8.80), (-63.00, -7.50), (-61.30, -5.80),
                       (-60.40, -5.10), (-58.80, -3.40))),
    ("Tapajós", 0.05, ((-58.00, -7.30), (-57.75, -6.20), (-56.00, -4.30), (-55.00, -2.50))),
    ("Xingu", 0.04, ((-53.20, -12.50), (-52.60, -10.50), (-52.10, -8.00), (-52.00, -6.60), (-52.80, -4.50),
                     (-52.20, -3.20), (-52.20, -1.70))),
    ("Tocantins", 0.04, ((-48.30, -12.50), (-48.40, -10.20), (-47.70, -7.00), (-47.50, -5.50),
                         (-49.10, -5.35), (-49.70, -3.70), (-49.30, -1.80), (-48.50, -1.20))),
    ("Araguaia", 0.04, ((-52.30, -15.90), (-50.70, -13.00), (-50.60, -11.60), (-49.80, -9.50),
                        (-48.70, -6.00), (-48.40, -5.30))),
    ("Purus", 0.035, ((-69.50, -10.80), (-68.70, -9.10), (-67.40, -8.70), (-64.80, -7.30), (-62.00, -4.50),
                      (-61.40, -3.60))),
    ("Juruá", 0.035, ((-72.70, -7.60), (-69.90, -6.70), (-67.00, -5.50), (-66.00, -3.00), (-65.80, -2.60))),
)

# Cerrado (south-east) and Pantanal (south-west) as rough polygons; the rest is Amazônia.
CERRADO_LONLAT: tuple[tuple[float, float], ...] = (
    (-61.0, -14.2), (-59.5, -13.6), (-58.0, -13.9), (-56.5, -13.3), (-55.0, -13.0), (-53.5, -12.6),
    (-52.0, -12.0), (-51.2, -10.5), (-50.4, -9.3), (-49.4, -7.2), (-48.6, -5.8), (-47.5, -5.2), (-46.5, -4.4),
    (-45.2, -3.4), (-44.0, -3.0), (-40.0, -3.0), (-40.0, -20.0), (-61.0, -20.0),
)
PANTANAL_LONLAT: tuple[tuple[float, float], ...] = (
    (-58.2, -15.9), (-56.6, -15.8), (-56.0, -16.6), (-56.3, -17.6), (-57.9, -17.4), (-58.4, -16.3),
)
# Roraima's "lavrado" savanna around Boa Vista: centre (lon, lat) and semi-axes (deg).
LAVRADO = ((-60.7, 3.3), (0.9, 0.8))
# Axis of the "arc of deforestation" along the southern and eastern forest edge.
ARC_LONLAT: tuple[tuple[float, float], ...] = (
    (-68.5, -10.2), (-66.0, -9.6), (-63.0, -9.6), (-61.0, -11.0), (-58.5, -10.6), (-55.5, -10.2),
    (-52.5, -8.8), (-50.5, -6.8), (-49.0, -4.2), (-47.2, -2.5),
)

VILLAGE_NAMES = (
    "Vila Nova", "Santa Luzia", "Boa Esperança", "Nova Fronteira", "São José", "Bela Vista", "Progresso",
    "Vila Rica", "Novo Horizonte", "Santo Antônio", "Castelo", "Alvorada", "Bom Futuro", "Nova União",
    "Primavera", "Palmeiras", "Canaã", "Esperança", "Liberdade", "Vista Alegre", "Nova Conquista",
    "Santa Fé", "Paraíso", "Boa Sorte",
)


def legal_amazon_boundary() -> Polygon:
    """The hand-drawn Legal Amazon outline."""
    poly = Polygon(BOUNDARY_LONLAT)
    if not poly.is_valid:  # pragma: no cover - the outline is checked by the tests
        raise ValueError("the Legal Amazon outline is not a valid polygon")
    return poly


def state_polygons(boundary: Polygon) -> gpd.GeoDataFrame:
    """Nine states: Voronoi cells of a few seeds per state, merged per state and clipped to the outline."""
    seeds, owners = [], []
    for uf, (_, _, _, pts) in STATES.items():
        for p in pts:
            seeds.append(p)
            owners.append(uf)
    envelope = shapely.box(-80.0, -25.0, -38.0, 10.0)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=envelope))
    seed_points = shapely.points(np.asarray(seeds))
    parts: dict[str, list] = {uf: [] for uf in STATES}
    for cell in cells:
        hit = np.flatnonzero(shapely.contains(cell, seed_points))
        parts[owners[int(hit[0])]].append(cell)
    rows = []
    for uf, (code, name, _, _) in STATES.items():
        geom = shapely.union_all(parts[uf]).intersection(boundary)
        rows.append({"state": uf, "state_id": code, "name": name, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def municipalities() -> pd.DataFrame:
    """The municipality-seat table (name_upper, name, state, code, lat, lon, population)."""
    cols = ["name_upper", "name", "state", "code", "lat", "lon", "population"]
    return pd.DataFrame(list(MUNICIPALITIES), columns=cols)


def _km_to_deg(lat: float) -> tuple[float, float]:
    """Degrees of (lon, lat) per km at latitude `lat`."""
    return 1.0 / (111.32 * np.cos(np.deg2rad(lat))), 1.0 / 111.32


def _side_road(start: np.ndarray, direction: np.ndarray, length_km: float, rng: np.random.Generator,
               ) -> LineString:
    """A gently bending road of `length_km` from `start` along unit `direction` (in km space)."""
    pts = [start.copy()]
    pos, d = start.copy(), direction.copy()
    n_seg = 3
    for _ in range(n_seg):
        angle = rng.normal(0.0, 0.18)
        c, s = np.cos(angle), np.sin(angle)
        d = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        dlon, dlat = _km_to_deg(pos[1])
        step = length_km / n_seg
        pos = pos + np.array([d[0] * step * dlon, d[1] * step * dlat])
        pts.append(pos.copy())
    return LineString(pts)


def fishbone_roads(boundary: Polygon, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Trunk roads plus perpendicular side roads ("vicinais") and a few branches: the fishbone pattern."""
    rows = [{"name": n, "kind": "trunk", "geometry": LineString(c)} for n, c in TRUNK_ROADS]
    for name, coords in TRUNK_ROADS:
        short = name.split(" ")[0]
        trunk = LineString(coords)
        length_km = _line_length_km(trunk)
        density = 0.35 if short == "BR-319" else 1.0
        km = rng.uniform(5.0, 25.0)
        side = 1.0
        while km < length_km - 5.0:
            if rng.random() < 0.8 * density:
                frac = km / length_km
                a = np.asarray(trunk.interpolate(max(frac - 0.002, 0.0), normalized=True).coords[0])
                b = np.asarray(trunk.interpolate(min(frac + 0.002, 1.0), normalized=True).coords[0])
                start = np.asarray(trunk.interpolate(frac, normalized=True).coords[0])
                dlon, dlat = _km_to_deg(start[1])
                t = np.array([(b[0] - a[0]) / dlon, (b[1] - a[1]) / dlat])
                t /= np.linalg.norm(t) + 1e-12
                side = -side if rng.random() < 0.8 else side
                normal = side * np.array([-t[1], t[0]])
                length = float(rng.uniform(15.0, 75.0))
                road = _side_road(start, normal, length, rng)
                rows.append({"name": f"Vicinal {short} km {int(km)}", "kind": "vicinal", "geometry": road})
                if rng.random() < 0.35:
                    mid = np.asarray(road.interpolate(rng.uniform(0.3, 0.8), normalized=True).coords[0])
                    branch_dir = t * (1.0 if rng.random() < 0.5 else -1.0)
                    branch = _side_road(mid, branch_dir, float(rng.uniform(8.0, 30.0)), rng)
                    rows.append({"name": f"Travessão {short} km {int(km)}", "kind": "vicinal",
                                 "geometry": branch})
            km += rng.uniform(18.0, 40.0)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
    clipped = gdf.geometry.intersection(boundary)
    gdf = gdf.set_geometry(clipped.map(_longest_line))
    return gdf[~gdf.geometry.is_empty].reset_index(drop=True)


def _longest_line(geom) -> LineString:
    """The longest line part of a (multi)line geometry; empty LineString if none."""
    lines = [g for g in shapely.get_parts(geom) if isinstance(g, LineString) and not g.is_empty]
    if not lines:
        return LineString()
    return max(lines, key=lambda g: g.length)


def _line_length_km(line: LineString) -> float:
    """Approximate length of a lon/lat line in km."""
    c = np.asarray(line.coords)
    mid_lat = np.deg2rad((c[1:, 1] + c[:-1, 1]) / 2)
    dx = np.diff(c[:, 0]) * 111.32 * np.cos(mid_lat)
    dy = np.diff(c[:, 1]) * 111.32
    return float(np.hypot(dx, dy).sum())


def build_settlements(roads: gpd.GeoDataFrame, boundary: Polygon, rng: np.random.Generator,
                      ) -> gpd.GeoDataFrame:
    """Real municipality seats inside the outline plus villages at the start of some side roads."""
    muni = municipalities()
    rows = [{"name": r.name, "population": int(r.population), "geometry": Point(r.lon, r.lat)}
            for r in muni.itertuples() if boundary.contains(Point(r.lon, r.lat))]
    vicinal = roads[roads["kind"] == "vicinal"]
    for r in vicinal.itertuples():
        if not r.name.startswith("Vicinal") or rng.random() > 0.3:
            continue
        start = Point(r.geometry.coords[0])
        base = VILLAGE_NAMES[int(rng.integers(len(VILLAGE_NAMES)))]
        km = r.name.split(" km ")[-1]
        trunk = r.name.split(" ")[1]
        pop = int(np.clip(rng.lognormal(np.log(1500.0), 0.8), 150, 40000))
        rows.append({"name": f"{base} ({trunk} km {km})", "population": pop, "geometry": start})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def biome_of(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """'Amazônia', 'Cerrado' or 'Pantanal' for each point."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    out = np.full(lat.shape, "Amazônia", dtype=object)
    out[shapely.contains_xy(Polygon(CERRADO_LONLAT), lon, lat)] = "Cerrado"
    out[shapely.contains_xy(Polygon(PANTANAL_LONLAT), lon, lat)] = "Pantanal"
    return out


def cerrado_score(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Signed distance-like score (deg): > 0 inside the Cerrado polygon, < 0 outside."""
    poly = Polygon(CERRADO_LONLAT)
    pts = shapely.points(np.column_stack([lon.ravel(), lat.ravel()]))
    d = shapely.distance(poly.exterior, pts)
    inside = shapely.contains(poly, pts)
    return np.where(inside, d, -d).reshape(lat.shape)


def arc_distance_deg(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance in degrees to the axis of the arc of deforestation."""
    pts = shapely.points(np.column_stack([lon.ravel(), lat.ravel()]))
    return shapely.distance(LineString(ARC_LONLAT), pts).reshape(lat.shape)


def elevation_m(lat: np.ndarray, lon: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Terrain height: Amazon lowlands, Brazilian Shield to the south, Guiana Shield to the north."""
    shield_s = 420.0 / (1.0 + np.exp(-(-lat - 11.5) / 1.5))
    shield_n = 650.0 / (1.0 + np.exp(-(lat - 2.8) / 0.6))
    andes_w = 120.0 / (1.0 + np.exp(-(-lon - 71.5) / 0.8))
    return np.clip(60.0 + shield_s + shield_n + andes_w + 60.0 * noise, 5.0, 2500.0)


def build_cells(grid: Grid, boundary: Polygon, states: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                settlements: gpd.GeoDataFrame) -> pd.DataFrame:
    """The analysis cells inside the outline with their static attributes.

    Columns: cell_id, row, col, lat, lon, area_km2, state, state_id, state_upper, municipio, municipio_id,
    bioma, road_km, town_km.
    """
    cells = cells_in_boundary(grid, boundary).reset_index(drop=True)
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    state = np.full(len(cells), "", dtype=object)
    for r in states.itertuples():
        state[shapely.contains_xy(r.geometry, lon, lat) & (state == "")] = r.state
    if (state == "").any():  # a centre on a shared edge: take the nearest state
        missing = np.flatnonzero(state == "")
        pts = shapely.points(np.column_stack([lon[missing], lat[missing]]))
        d = np.stack([shapely.distance(g, pts) for g in states.geometry])
        state[missing] = states["state"].to_numpy()[d.argmin(axis=0)]
    cells["state"] = state
    cells["state_id"] = [STATES[s][0] for s in state]
    cells["state_upper"] = [STATES[s][2] for s in state]
    muni = municipalities()
    name = np.empty(len(cells), dtype=object)
    code = np.zeros(len(cells), dtype=np.int64)
    for uf, idx in cells.groupby("state").indices.items():
        m = muni[muni["state"] == uf]
        d2 = ((lat[idx, None] - m["lat"].to_numpy()[None]) ** 2
              + ((lon[idx, None] - m["lon"].to_numpy()[None]) * np.cos(np.deg2rad(lat[idx, None]))) ** 2)
        j = d2.argmin(axis=1)
        name[idx] = m["name_upper"].to_numpy()[j]
        code[idx] = m["code"].to_numpy()[j]
    cells["municipio"] = name
    cells["municipio_id"] = code
    cells["bioma"] = biome_of(lat, lon)
    cells["road_km"] = distance_to_features_km(lat, lon, roads.geometry)
    cells["town_km"] = distance_to_features_km(lat, lon, settlements.geometry)
    return cells

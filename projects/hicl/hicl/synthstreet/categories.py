"""The nuScenes-lidarseg label set (general class index 0..31) and the nuScenes attribute / visibility tables."""
# (name, description) of the 32 nuScenes-lidarseg categories; the position is the category's general "index".
LIDARSEG_CATEGORIES = (
    ('noise', 'Points without a valid return or label.'),
    ('animal', 'Any animal.'),
    ('human.pedestrian.adult', 'Adult pedestrian.'),
    ('human.pedestrian.child', 'Child pedestrian.'),
    ('human.pedestrian.construction_worker', 'Person working at a construction site.'),
    ('human.pedestrian.personal_mobility', 'Person on a scooter, skateboard or similar.'),
    ('human.pedestrian.police_officer', 'Police officer.'),
    ('human.pedestrian.stroller', 'Stroller.'),
    ('human.pedestrian.wheelchair', 'Wheelchair.'),
    ('movable_object.barrier', 'Temporary road barrier.'),
    ('movable_object.debris', 'Debris on the road.'),
    ('movable_object.pushable_pullable', 'Cart, dolly or other object pushed or pulled by a person.'),
    ('movable_object.trafficcone', 'Traffic cone.'),
    ('static_object.bicycle_rack', 'Bicycle rack.'),
    ('vehicle.bicycle', 'Bicycle.'),
    ('vehicle.bus.bendy', 'Articulated bus.'),
    ('vehicle.bus.rigid', 'Rigid bus.'),
    ('vehicle.car', 'Car, van or SUV.'),
    ('vehicle.construction', 'Construction vehicle.'),
    ('vehicle.emergency.ambulance', 'Ambulance.'),
    ('vehicle.emergency.police', 'Police vehicle.'),
    ('vehicle.motorcycle', 'Motorcycle or scooter.'),
    ('vehicle.trailer', 'Trailer.'),
    ('vehicle.truck', 'Truck or tractor.'),
    ('flat.driveable_surface', 'Road surface a car can drive on.'),
    ('flat.other', 'Other flat ground: traffic islands, bike lanes, parking lots.'),
    ('flat.sidewalk', 'Sidewalk and curb.'),
    ('flat.terrain', 'Grass, soil and other natural ground.'),
    ('static.manmade', 'Buildings, walls, poles, signs and other man-made structures.'),
    ('static.other', 'Other static background.'),
    ('static.vegetation', 'Trees, bushes and hedges.'),
    ('vehicle.ego', 'The ego vehicle itself.'),
)
CATEGORY_INDEX = {name: index for index, (name, _) in enumerate(LIDARSEG_CATEGORIES)}

PEDESTRIAN = CATEGORY_INDEX['human.pedestrian.adult']
CONSTRUCTION_WORKER = CATEGORY_INDEX['human.pedestrian.construction_worker']
BARRIER = CATEGORY_INDEX['movable_object.barrier']
TRAFFIC_CONE = CATEGORY_INDEX['movable_object.trafficcone']
BICYCLE = CATEGORY_INDEX['vehicle.bicycle']
BUS = CATEGORY_INDEX['vehicle.bus.rigid']
CAR = CATEGORY_INDEX['vehicle.car']
CONSTRUCTION_VEHICLE = CATEGORY_INDEX['vehicle.construction']
MOTORCYCLE = CATEGORY_INDEX['vehicle.motorcycle']
TRAILER = CATEGORY_INDEX['vehicle.trailer']
TRUCK = CATEGORY_INDEX['vehicle.truck']
DRIVEABLE = CATEGORY_INDEX['flat.driveable_surface']
OTHER_FLAT = CATEGORY_INDEX['flat.other']
SIDEWALK = CATEGORY_INDEX['flat.sidewalk']
TERRAIN = CATEGORY_INDEX['flat.terrain']
MANMADE = CATEGORY_INDEX['static.manmade']
VEGETATION = CATEGORY_INDEX['static.vegetation']

ATTRIBUTES = (
    ('vehicle.moving', 'Vehicle is moving.'),
    ('vehicle.stopped', 'Vehicle is stationary with a driver, e.g. at a traffic light.'),
    ('vehicle.parked', 'Vehicle is parked.'),
    ('cycle.with_rider', 'A rider is on the bicycle or motorcycle.'),
    ('cycle.without_rider', 'No rider is on the bicycle or motorcycle.'),
    ('pedestrian.sitting_lying_down', 'Pedestrian is sitting or lying down.'),
    ('pedestrian.standing', 'Pedestrian is standing.'),
    ('pedestrian.moving', 'Pedestrian is moving.'),
)
# (token, level, description) of the nuScenes visibility table; its tokens are the strings '1'..'4'.
VISIBILITIES = (
    ('1', 'v0-40', 'visibility of whole object is between 0 and 40%'),
    ('2', 'v40-60', 'visibility of whole object is between 40 and 60%'),
    ('3', 'v60-80', 'visibility of whole object is between 60 and 80%'),
    ('4', 'v80-100', 'visibility of whole object is between 80 and 100%'),
)
